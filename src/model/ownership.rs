//! Ownership stamps: how foundryctl recognises its own resources without a state file.
//!
//! Every resource foundryctl writes carries three keys in its `metadata`: `managed-by:
//! foundryctl`, the set it belongs to, and a hash of the spec that was applied. Resources without
//! the stamp are never modified or deleted (the plan reports a conflict instead).

use std::collections::BTreeMap;

use super::names::SetName;

pub const MANAGED_BY_KEY: &str = "managed-by";
pub const MANAGED_BY_VALUE: &str = "foundryctl";
pub const SET_KEY: &str = "foundryctl-set";
pub const HASH_KEY: &str = "foundryctl-hash";

/// `foundryctl-disposable: "true"`, written on a store declared `lifecycle: {disposable: true}`
/// by the apply that creates or updates it. Protection reads it from the live store, never from
/// the manifests: a store becomes disposable only once an apply stamped it so, so declaring it
/// disposable and changing a create-only option in one edit cannot replace a store full of
/// memories without a flag.
pub const DISPOSABLE_KEY: &str = "foundryctl-disposable";

/// Metadata keys users may not set as labels, because foundryctl writes them. They count
/// against the service's limit of 16 metadata keys ([`DISPOSABLE_KEY`] too, on disposable
/// stores only).
pub const RESERVED_METADATA_KEYS: [&str; 3] = [MANAGED_BY_KEY, SET_KEY, HASH_KEY];

/// Whether a live store's metadata carries the disposable stamp.
pub fn stamped_disposable(metadata: &BTreeMap<String, String>) -> bool {
    metadata.get(DISPOSABLE_KEY).map(String::as_str) == Some("true")
}

/// `metadata` with the disposable stamp set (when `disposable`) or removed.
pub fn with_disposable(
    mut metadata: BTreeMap<String, String>,
    disposable: bool,
) -> BTreeMap<String, String> {
    if disposable {
        metadata.insert(DISPOSABLE_KEY.to_owned(), "true".to_owned());
    } else {
        metadata.remove(DISPOSABLE_KEY);
    }
    metadata
}

/// What a live resource's metadata says about who owns it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Ownership {
    /// `managed-by: foundryctl` is present.
    pub managed: bool,
    /// `foundryctl-set`, when present.
    pub set: Option<String>,
    /// `foundryctl-hash`, when present: the fingerprint of the spec foundryctl last applied.
    pub hash: Option<String>,
}

impl Ownership {
    pub fn from_metadata(metadata: &BTreeMap<String, String>) -> Self {
        Self {
            managed: metadata.get(MANAGED_BY_KEY).map(String::as_str) == Some(MANAGED_BY_VALUE),
            set: metadata.get(SET_KEY).cloned(),
            hash: metadata.get(HASH_KEY).cloned(),
        }
    }

    /// Who owns the resource, in a word or two: `set NAME`, `foundryctl` (no set) or
    /// `unmanaged`. The set name is as stamped: escape it before it reaches a terminal.
    pub fn owner(&self) -> String {
        match (self.managed, &self.set) {
            (true, Some(set)) => format!("set {set}"),
            (true, None) => "foundryctl".to_owned(),
            (false, _) => "unmanaged".to_owned(),
        }
    }

    /// Managed by foundryctl and stamped with this set. Only such resources may be deleted.
    pub fn is_owned_by(&self, set: &SetName) -> bool {
        self.managed && self.set.as_deref() == Some(set.as_str())
    }
}

/// The metadata to write for a resource: the user's labels plus the three stamps.
pub fn stamped_metadata(
    labels: &BTreeMap<String, String>,
    set: &SetName,
    hash: &str,
) -> BTreeMap<String, String> {
    let mut metadata = labels.clone();
    metadata.insert(MANAGED_BY_KEY.to_owned(), MANAGED_BY_VALUE.to_owned());
    metadata.insert(SET_KEY.to_owned(), set.as_str().to_owned());
    metadata.insert(HASH_KEY.to_owned(), hash.to_owned());
    metadata
}

/// The user's labels in a live resource's metadata: everything but the stamps.
pub fn labels_of(metadata: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    metadata
        .iter()
        .filter(|(k, _)| !RESERVED_METADATA_KEYS.contains(&k.as_str()) && *k != DISPOSABLE_KEY)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_round_trip_and_labels_exclude_them() {
        let labels = BTreeMap::from([("team".to_owned(), "devex".to_owned())]);
        let set = SetName::new("workshop").unwrap();
        let md = stamped_metadata(&labels, &set, "abc");
        let own = Ownership::from_metadata(&md);
        assert!(own.managed);
        assert!(own.is_owned_by(&set));
        assert!(!own.is_owned_by(&SetName::default()));
        assert_eq!(own.hash.as_deref(), Some("abc"));
        assert_eq!(labels_of(&md), labels);
    }

    #[test]
    fn foreign_metadata_is_not_owned() {
        let md = BTreeMap::from([(MANAGED_BY_KEY.to_owned(), "terraform".to_owned())]);
        assert!(!Ownership::from_metadata(&md).managed);
    }
}
