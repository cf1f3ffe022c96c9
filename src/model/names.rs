//! Names that validate on construction, so a bad name is rejected once, at the edge, and every
//! later layer can rely on it being usable as a URL path segment.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a name was refused. The message reads after "invalid name: ".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("name is empty")]
    Empty,
    #[error("name is {len} characters long; the limit is {max}")]
    TooLong { len: usize, max: usize },
    #[error("{0}")]
    Pattern(&'static str),
}

/// The checks every name shares: not empty, and at most `max` characters.
fn check_length(name: &str, max: usize) -> Result<(), NameError> {
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    let len = name.chars().count();
    if len > max {
        return Err(NameError::TooLong { len, max });
    }
    Ok(())
}

/// The narrow rule of names that live only in metadata or in manifests (sets, seeds): at most
/// `max` characters of ASCII letters, digits, `-`, `_` and `.`.
fn check_narrow(name: &str, max: usize, pattern: &'static str) -> Result<(), NameError> {
    check_length(name, max)?;
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(NameError::Pattern(pattern));
    }
    Ok(())
}

/// The name of a prompt agent: ASCII letters and digits with inner hyphens, at most 63
/// characters (the service's documented agent-name rule).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AgentName(String);

impl AgentName {
    pub const MAX_LEN: usize = 63;

    pub fn new(name: impl Into<String>) -> Result<Self, NameError> {
        let name = name.into();
        check_length(&name, Self::MAX_LEN)?;
        if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(NameError::Pattern(
                "agent names may contain only ASCII letters, digits and hyphens",
            ));
        }
        if name.starts_with('-') || name.ends_with('-') {
            return Err(NameError::Pattern(
                "agent names must not start or end with a hyphen",
            ));
        }
        Ok(Self(name))
    }
}

/// The name of a memory store: 1 to 256 characters. The service documents no pattern, but the
/// name is a URL path segment followed by `:verb` routes, so characters that would change the
/// meaning of the path are refused.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MemoryStoreName(String);

impl MemoryStoreName {
    pub const MAX_LEN: usize = 256;

    pub fn new(name: impl Into<String>) -> Result<Self, NameError> {
        let name = name.into();
        check_length(&name, Self::MAX_LEN)?;
        if name.chars().any(|c| {
            c.is_whitespace() || c.is_control() || matches!(c, '/' | '?' | '#' | ':' | '%' | '\\')
        }) {
            return Err(NameError::Pattern(
                "memory store names must not contain whitespace, control characters or any of / ? # : % \\",
            ));
        }
        // A dot segment would be resolved away in the URL: `/memory_stores/..` is the
        // collection, so a delete or an update would go to a different resource than named.
        if name == "." || name == ".." {
            return Err(NameError::Pattern(
                "memory store names must not be `.` or `..`, which a URL path resolves away",
            ));
        }
        Ok(Self(name))
    }
}

/// Declares a name type with the narrow rule ([`check_narrow`], at most 63 characters): the
/// names that live only in metadata or in manifests, which share their rules on purpose.
macro_rules! narrow_name {
    ($(#[$doc:meta])* $ty:ident, $noun:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $ty(String);

        impl $ty {
            pub const MAX_LEN: usize = 63;

            pub fn new(name: impl Into<String>) -> Result<Self, NameError> {
                let name = name.into();
                check_narrow(
                    &name,
                    Self::MAX_LEN,
                    concat!($noun, " names may contain only ASCII letters, digits, '-', '_' and '.'"),
                )?;
                Ok(Self(name))
            }
        }
    };
}

narrow_name!(
    /// A set groups the resources one manifest set owns (`--set`, default `default`). It is
    /// stored in metadata, so it follows the metadata value rules, kept deliberately narrow.
    SetName,
    "set"
);

narrow_name!(
    /// A memory seed's name (`kind: MemorySeed`): the same rules as a set name, since it names
    /// nothing on the service.
    SeedName,
    "seed"
);

impl Default for SetName {
    fn default() -> Self {
        Self("default".to_owned())
    }
}

macro_rules! string_newtype_impls {
    ($($ty:ident),*) => {$(
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl TryFrom<String> for $ty {
            type Error = NameError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::new(value)
            }
        }
        impl From<$ty> for String {
            fn from(value: $ty) -> String {
                value.0
            }
        }
        impl std::str::FromStr for $ty {
            type Err = NameError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::new(s)
            }
        }
        impl AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
        impl $ty {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
    )*};
}
string_newtype_impls!(AgentName, MemoryStoreName, SetName, SeedName);

/// The kinds of resource foundryctl manages, in the spelling used on the command line
/// (`memory_store/NAME`, `agent/NAME`, `memory_seed/NAME`) and in plans.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceKind {
    MemoryStore,
    Agent,
    MemorySeed,
}

impl ResourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceKind::MemoryStore => "memory_store",
            ResourceKind::Agent => "agent",
            ResourceKind::MemorySeed => "memory_seed",
        }
    }

    /// The kind a `KIND/…` argument names: the command-line spelling, the manifest `kind:`
    /// spelling, or the command-line one with `-` for `_`.
    pub fn parse(kind: &str) -> Result<Self, ResourceRefError> {
        match kind {
            "memory_store" | "MemoryStore" | "memory-store" => Ok(ResourceKind::MemoryStore),
            "agent" | "Agent" => Ok(ResourceKind::Agent),
            "memory_seed" | "MemorySeed" | "memory-seed" => Ok(ResourceKind::MemorySeed),
            other => Err(ResourceRefError::Kind(other.to_owned())),
        }
    }

    /// Every kind, in the order manifests are documented.
    pub const ALL: [ResourceKind; 3] = [
        ResourceKind::MemoryStore,
        ResourceKind::Agent,
        ResourceKind::MemorySeed,
    ];

    /// The kind a manifest's `kind:` names, spelled exactly as manifests spell it.
    pub fn from_manifest_kind(kind: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.manifest_kind() == kind)
    }

    /// The manifest `kind:` spelling.
    pub fn manifest_kind(self) -> &'static str {
        match self {
            ResourceKind::MemoryStore => "MemoryStore",
            ResourceKind::Agent => "Agent",
            ResourceKind::MemorySeed => "MemorySeed",
        }
    }
}

impl fmt::Display for ResourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `KIND/NAME`, as typed after `--target`, `--allow-replace`, `--allow-delete` and `import`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum ResourceRef {
    MemoryStore(MemoryStoreName),
    Agent(AgentName),
    MemorySeed(SeedName),
}

impl ResourceRef {
    pub fn kind(&self) -> ResourceKind {
        match self {
            ResourceRef::MemoryStore(_) => ResourceKind::MemoryStore,
            ResourceRef::Agent(_) => ResourceKind::Agent,
            ResourceRef::MemorySeed(_) => ResourceKind::MemorySeed,
        }
    }

    pub fn name(&self) -> &str {
        match self {
            ResourceRef::MemoryStore(n) => n.as_str(),
            ResourceRef::Agent(n) => n.as_str(),
            ResourceRef::MemorySeed(n) => n.as_str(),
        }
    }
}

impl fmt::Display for ResourceRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.kind(), self.name())
    }
}

/// Why a `KIND/NAME` reference was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResourceRefError {
    #[error("expected KIND/NAME (for example memory_store/dev-prefs-memory or agent/dev-buddy)")]
    Shape,
    #[error("unknown kind `{0}`; expected memory_store, agent or memory_seed")]
    Kind(String),
    /// clap prints only an argument error's message, so the name error is part of it, and is
    /// not also a source: a cause is printed once.
    #[error("invalid name: {0}")]
    Name(NameError),
}

impl From<NameError> for ResourceRefError {
    fn from(error: NameError) -> Self {
        ResourceRefError::Name(error)
    }
}

impl std::str::FromStr for ResourceRef {
    type Err = ResourceRefError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (kind, name) = s.split_once('/').ok_or(ResourceRefError::Shape)?;
        Ok(match ResourceKind::parse(kind)? {
            ResourceKind::MemoryStore => ResourceRef::MemoryStore(MemoryStoreName::new(name)?),
            ResourceKind::Agent => ResourceRef::Agent(AgentName::new(name)?),
            ResourceKind::MemorySeed => ResourceRef::MemorySeed(SeedName::new(name)?),
        })
    }
}

impl TryFrom<String> for ResourceRef {
    type Error = ResourceRefError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl From<ResourceRef> for String {
    fn from(value: ResourceRef) -> String {
        value.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_names_follow_the_service_pattern() {
        assert!(AgentName::new("dev-buddy").is_ok());
        assert!(AgentName::new("Agent2").is_ok());
        assert_eq!(AgentName::new(""), Err(NameError::Empty));
        assert!(AgentName::new("-lead").is_err());
        assert!(AgentName::new("trail-").is_err());
        assert!(AgentName::new("under_score").is_err());
        assert!(AgentName::new("a".repeat(63)).is_ok());
        assert_eq!(
            AgentName::new("a".repeat(64)),
            Err(NameError::TooLong { len: 64, max: 63 })
        );
    }

    #[test]
    fn store_names_refuse_path_breaking_characters() {
        assert!(MemoryStoreName::new("my_memory_store").is_ok());
        assert!(MemoryStoreName::new("MemoryStore-sweet_coconut").is_ok());
        for bad in ["a/b", "a:b", "a b", "a?b", "a#b", "a%2F"] {
            assert!(
                MemoryStoreName::new(bad).is_err(),
                "{bad} should be refused"
            );
        }
        assert!(MemoryStoreName::new("s".repeat(256)).is_ok());
        // Dot segments name the collection or its parent once a URL is resolved.
        assert!(MemoryStoreName::new(".").is_err());
        assert!(MemoryStoreName::new("..").is_err());
        assert!(MemoryStoreName::new("...").is_ok());
        assert!(MemoryStoreName::new(".hidden").is_ok());
        assert!(MemoryStoreName::new("s".repeat(257)).is_err());
    }

    #[test]
    fn resource_refs_parse_kind_and_name() {
        let r: ResourceRef = "memory_store/dev-prefs-memory".parse().unwrap();
        assert_eq!(r.to_string(), "memory_store/dev-prefs-memory");
        let r: ResourceRef = "agent/dev-buddy".parse().unwrap();
        assert_eq!(r.kind(), ResourceKind::Agent);
        assert!("dev-buddy".parse::<ResourceRef>().is_err());
        assert!("table/x".parse::<ResourceRef>().is_err());
    }
}
