//! Fingerprints: the `foundryctl-hash` stamp and the live fingerprints saved plans check.
//!
//! The stamp is how foundryctl remembers, without a state file, what it last applied: the
//! sha256 of a canonical serialisation of the normalised spec ([`super::normalize`]; labels
//! included, stamps excluded), as 32 lowercase hex characters (128 bits, plenty to tell specs
//! apart, and short enough for the service's 512-character metadata values).
//!
//! The serialisation starts with a format tag and the resource kind. Changing a kind's normal
//! form or the serialisation changes its hashes, which the planner would read as "the manifests
//! changed" on every resource; such a change must bump that kind's tag, never be slipped in. A
//! stamp made under an older tag matches no current hash, so the planner reads it as a stale
//! stamp: an agent whose content still matches is re-stamped with a new version.
//!
//! Tags are per kind so that bumping one never disturbs the other: a store whose stamp no
//! longer reproduces is planned for replacement when it has options the service hides, which
//! would destroy memories for nothing.
//! - memory stores: `foundryctl-spec/v1`.
//! - agents: `foundryctl-spec/v2`. In `v1` the memory search tool's `max_memories` sat beside
//!   `scope`; `v2` nests it as `search_options.max_memories`, the manifest's and the API's own
//!   path, so plans name the field the user wrote.

use std::collections::BTreeMap;
use std::io;

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::names::ResourceKind;
use super::seed::LiveMemory;
use super::state::{LiveAgentVersion, LiveMemoryStore};
use super::{AgentSpec, MemoryStoreSpec, normalize};

/// The tag that opens every hashed serialisation of a kind's normal form (see the module doc
/// for the history).
fn format_tag(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::MemoryStore => "foundryctl-spec/v1",
        ResourceKind::Agent => "foundryctl-spec/v2",
        ResourceKind::MemorySeed => "foundryctl-seed/v1",
    }
}

/// Hex characters kept from the sha256 digest.
pub const FINGERPRINT_LEN: usize = 32;

/// The fingerprint of a normalised spec of the given kind. The canonical form is streamed
/// into the hasher rather than built as a string first: planning hashes every declared
/// resource, and the string was most of a fingerprint's cost.
pub fn of_normalized(kind: ResourceKind, normalized: &Value) -> String {
    let mut hasher = Sha256::new();
    hasher.update(format_tag(kind).as_bytes());
    hasher.update(b"\n");
    hasher.update(kind.as_str().as_bytes());
    hasher.update(b"\n");
    // Hashing never fails, so neither does writing into it.
    let _ = write_canonical_json(&mut Hashing(&mut hasher), normalized);
    hex_prefix(&hasher.finalize())
}

/// [`of_normalized`] of the value whose [`canonical_json`] is `canonical`: the same hash, for
/// a caller that keeps the text (to compare normal forms without keeping the values).
pub fn of_canonical(kind: ResourceKind, canonical: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(format_tag(kind).as_bytes());
    hasher.update(b"\n");
    hasher.update(kind.as_str().as_bytes());
    hasher.update(b"\n");
    hasher.update(canonical.as_bytes());
    hex_prefix(&hasher.finalize())
}

/// The stamp for a desired memory store.
pub fn store(spec: &MemoryStoreSpec) -> String {
    of_normalized(ResourceKind::MemoryStore, &normalize::desired_store(spec))
}

/// The stamp for a desired agent (and the fingerprint of a live agent version's content).
pub fn agent(spec: &AgentSpec) -> String {
    of_normalized(ResourceKind::Agent, &normalize::agent(spec))
}

/// What a saved plan remembers of a live store besides `updated_at`: everything the service
/// reported (its id and creation time, normal form, which options were missing, and the full
/// metadata, stamps included). `updated_at` alone is not enough, because the service did not
/// always bump it on an update; the id tells a store made again (a reset, within the same
/// second even) from the one the plan read.
pub fn live_store(store: &LiveMemoryStore) -> String {
    let seen = normalize::live_store(&store.spec);
    let metadata: serde_json::Map<String, Value> = store
        .metadata
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect::<BTreeMap<_, _>>()
        .into_iter()
        .collect();
    let observed = serde_json::json!({
        "created_at": store.created_at,
        "id": store.id,
        "metadata": metadata,
        "spec": seen.value,
        "unreported": seen.unreported.into_iter().collect::<Vec<_>>(),
    });
    of_normalized(ResourceKind::MemoryStore, &observed)
}

/// What a saved plan remembers of an agent's latest version besides its number: when it was
/// made and its full metadata (stamps included). The number alone does not tell an agent
/// deleted and made again (numbered from 1 again) from the one the plan read. A version is
/// immutable, so its content need not be hashed: that would cost every plan a normal form and
/// a hash per live agent.
pub fn live_agent_version(version: &LiveAgentVersion) -> String {
    let metadata: serde_json::Map<String, Value> = version
        .metadata
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    let observed = serde_json::json!({
        "created_at": version.created_at,
        "metadata": metadata,
        "version": version.version,
    });
    of_normalized(ResourceKind::Agent, &observed)
}

/// What a saved plan's seed action expects of its scopes: the memories of `scopes` (scope →
/// items; a scope read empty and a scope not read hash alike), ids, kinds and contents.
pub fn live_memories(scopes: &BTreeMap<String, Vec<LiveMemory>>) -> String {
    let observed: BTreeMap<&String, Vec<(&str, &str, &str)>> = scopes
        .iter()
        .filter(|(_, items)| !items.is_empty())
        .map(|(scope, items)| {
            let mut items: Vec<(&str, &str, &str)> = items
                .iter()
                .map(|m| (m.id.as_str(), m.kind.as_str(), m.content.as_str()))
                .collect();
            items.sort_unstable();
            (scope, items)
        })
        .collect();
    // Plain maps of strings serialise without fail.
    let value = serde_json::to_value(observed).unwrap_or(Value::Null);
    of_normalized(ResourceKind::MemorySeed, &value)
}

/// Serialises JSON with sorted object keys and no whitespace: the canonical form hashed above.
pub fn canonical_json(value: &Value) -> String {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = write_canonical_json(&mut out, value);
    // Only serde_json's output and ASCII punctuation went in, so this is valid UTF-8 and the
    // lossy conversion is never reached.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Writes [`canonical_json`] into `out` without building the string: the renderers show every
/// changed value this way.
pub fn write_canonical_json(out: &mut (impl io::Write + ?Sized), value: &Value) -> io::Result<()> {
    match value {
        Value::Object(map) => {
            out.write_all(b"{")?;
            // serde_json's map is sorted unless built with `preserve_order`; sort only then.
            if map.keys().is_sorted() {
                write_entries(out, map.iter())?;
            } else {
                let mut entries: Vec<(&String, &Value)> = map.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                write_entries(out, entries.into_iter())?;
            }
            out.write_all(b"}")
        }
        Value::Array(items) => {
            out.write_all(b"[")?;
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.write_all(b",")?;
                }
                write_canonical_json(out, item)?;
            }
            out.write_all(b"]")
        }
        // Scalars: serde_json's own rendering (escaped strings, shortest round-trip numbers),
        // exactly what `Value::to_string` writes.
        scalar => serde_json::to_writer(out, scalar).map_err(io::Error::from),
    }
}

fn write_entries<'v>(
    out: &mut (impl io::Write + ?Sized),
    entries: impl Iterator<Item = (&'v String, &'v Value)>,
) -> io::Result<()> {
    for (i, (key, value)) in entries.enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        // A key is written as a JSON string, as `Value::String(key)` would be.
        serde_json::to_writer(&mut *out, key.as_str()).map_err(io::Error::from)?;
        out.write_all(b":")?;
        write_canonical_json(out, value)?;
    }
    Ok(())
}

/// An [`io::Write`] into a hasher, so the canonical form is streamed rather than built.
pub struct Hashing<'a>(pub &'a mut Sha256);

impl io::Write for Hashing<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn hex_prefix(digest: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    digest
        .iter()
        .take(FINGERPRINT_LEN / 2)
        .flat_map(|byte| [HEX[usize::from(byte >> 4)], HEX[usize::from(byte & 0x0f)]])
        .map(char::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::model::MemoryStoreOptions;

    #[test]
    fn fingerprint_is_32_hex_and_ignores_key_order() {
        let a = of_normalized(ResourceKind::Agent, &json!({"a": 1, "b": [true, "x"]}));
        let b: Value = serde_json::from_str(r#"{"b":[true,"x"],"a":1}"#).unwrap();
        assert_eq!(a, of_normalized(ResourceKind::Agent, &b));
        assert_eq!(a.len(), FINGERPRINT_LEN);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_ne!(a, of_normalized(ResourceKind::MemoryStore, &b));
    }

    #[test]
    fn store_fingerprint_changes_with_an_unobservable_option() {
        let spec = MemoryStoreSpec {
            chat_model: "c".to_owned(),
            embedding_model: "e".to_owned(),
            ..MemoryStoreSpec::default()
        };
        let mut changed = spec.clone();
        changed.options = MemoryStoreOptions {
            procedural_memory_enabled: Some(false),
            ..MemoryStoreOptions::default()
        };
        assert_ne!(store(&spec), store(&changed));
        let mut explicit_default = spec.clone();
        explicit_default.options.procedural_memory_enabled = Some(true);
        assert_eq!(store(&spec), store(&explicit_default));
    }

    #[test]
    fn fingerprints_are_the_sha256_of_the_tagged_canonical_text() {
        // The stamps already written into live projects must keep reproducing: the hash is of
        // exactly "tag\nkind\ncanonical JSON", however it is computed.
        let v: Value =
            serde_json::from_str(r#"{"z": "a\"b\u00e9\n", "a": [1, 2.5, null, true], "m": {}}"#)
                .unwrap();
        let text = format!("foundryctl-spec/v2\nagent\n{}", canonical_json(&v));
        assert_eq!(
            text,
            "foundryctl-spec/v2\nagent\n{\"a\":[1,2.5,null,true],\"m\":{},\"z\":\"a\\\"b\u{e9}\\n\"}"
        );
        assert_eq!(
            of_normalized(ResourceKind::Agent, &v),
            hex_prefix(&Sha256::digest(text.as_bytes()))
        );
    }

    #[test]
    fn the_fingerprint_of_the_canonical_text_is_the_fingerprint_of_the_value() {
        let v: Value =
            serde_json::from_str(r#"{"model": "m", "tools": [{"type": "x", "n": 0.3}]}"#).unwrap();
        for kind in [ResourceKind::Agent, ResourceKind::MemoryStore] {
            assert_eq!(
                of_canonical(kind, &canonical_json(&v)),
                of_normalized(kind, &v)
            );
        }
        assert_ne!(
            of_canonical(ResourceKind::Agent, &canonical_json(&v)),
            of_canonical(ResourceKind::Agent, "{}")
        );
    }

    #[test]
    fn canonical_json_is_compact_and_sorted() {
        let v: Value = serde_json::from_str(r#"{"z": "a\"b", "a": [1, 2.5, null]}"#).unwrap();
        assert_eq!(canonical_json(&v), r#"{"a":[1,2.5,null],"z":"a\"b"}"#);
    }
}
