//! `KIND/PATTERN`: a resource reference whose name may hold `*`, as typed after `--replace`,
//! so that one flag can name every attendee's store (`memory_store/att*-memory`).

use std::fmt;

use super::names::{NameError, ResourceKind, ResourceRef, ResourceRefError};

/// A [`ResourceRef`], or a kind and a name pattern in which `*` stands for any run of
/// characters (none included). Nothing else is special: there is no escape, `?` or class.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum ResourcePattern {
    Exact(ResourceRef),
    Glob { kind: ResourceKind, name: String },
}

impl ResourcePattern {
    pub fn matches(&self, resource: &ResourceRef) -> bool {
        match self {
            ResourcePattern::Exact(r) => r == resource,
            ResourcePattern::Glob { kind, name } => {
                *kind == resource.kind() && glob_matches(name, resource.name())
            }
        }
    }
}

impl std::str::FromStr for ResourcePattern {
    type Err = ResourceRefError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (kind, name) = s.split_once('/').ok_or(ResourceRefError::Shape)?;
        if !name.contains('*') {
            return s.parse().map(ResourcePattern::Exact);
        }
        let kind = ResourceKind::parse(kind)?;
        // The parts between the stars must be possible pieces of a name, so a typo such as
        // a space is refused here rather than matching nothing later. Each part is checked
        // inside `a…a` (a piece may start or end with a hyphen), so only its characters are
        // judged there; the length that counts is that of all fixed parts together, which a
        // matching name holds at least.
        let max = match kind {
            ResourceKind::MemoryStore => super::MemoryStoreName::MAX_LEN,
            ResourceKind::Agent => super::AgentName::MAX_LEN,
            ResourceKind::MemorySeed => super::SeedName::MAX_LEN,
        };
        let fixed = name.chars().filter(|&c| c != '*').count();
        if fixed > max {
            return Err(ResourceRefError::Name(NameError::TooLong {
                len: fixed,
                max,
            }));
        }
        for part in name.split('*').filter(|p| !p.is_empty()) {
            let piece = format!("a{part}a");
            let checked = match kind {
                ResourceKind::MemoryStore => super::MemoryStoreName::new(piece).map(drop),
                ResourceKind::Agent => super::AgentName::new(piece).map(drop),
                ResourceKind::MemorySeed => super::SeedName::new(piece).map(drop),
            };
            match checked {
                Ok(()) | Err(NameError::TooLong { .. }) => {}
                Err(error) => return Err(ResourceRefError::Name(error)),
            }
        }
        Ok(ResourcePattern::Glob {
            kind,
            name: name.to_owned(),
        })
    }
}

impl fmt::Display for ResourcePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResourcePattern::Exact(r) => r.fmt(f),
            ResourcePattern::Glob { kind, name } => write!(f, "{kind}/{name}"),
        }
    }
}

/// Whether `name` matches `pattern`, `*` matching any run of characters. Linear in practice:
/// on a mismatch it backtracks only to the last star.
fn glob_matches(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    let (mut i, mut j) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while j < n.len() {
        if i < p.len() && p[i] == '*' {
            star = Some((i, j));
            i += 1;
        } else if i < p.len() && p[i] == n[j] {
            i += 1;
            j += 1;
        } else if let Some((si, sj)) = star {
            i = si + 1;
            j = sj + 1;
            star = Some((si, sj + 1));
        } else {
            return false;
        }
    }
    p[i..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(s: &str) -> ResourcePattern {
        s.parse().unwrap()
    }

    fn r(s: &str) -> ResourceRef {
        s.parse().unwrap()
    }

    #[test]
    fn stars_match_any_run_of_characters() {
        for (pattern, name, expected) in [
            ("att*-memory", "att01-memory", true),
            ("att*-memory", "att-memory", true),
            ("att*-memory", "att01-memory2", false),
            ("*", "anything", true),
            ("*-*-memory", "a-b-memory", true),
            ("*-*-memory", "ab-memory", false),
            ("a*b*c", "axxbyybzzc", true),
            ("a*b*c", "axxbyyc", true),
            ("a*b*c", "axxcyy", false),
            ("**", "", true),
        ] {
            assert_eq!(glob_matches(pattern, name), expected, "{pattern} ~ {name}");
        }
    }

    #[test]
    fn a_pattern_matches_its_kind_only_and_an_exact_name_is_a_reference() {
        let stores = pattern("memory_store/att*");
        assert!(stores.matches(&r("memory_store/att01-memory")));
        assert!(!stores.matches(&r("agent/att01-tutor")));
        assert_eq!(
            pattern("memory_store/prefs"),
            ResourcePattern::Exact(r("memory_store/prefs"))
        );
        assert_eq!(stores.to_string(), "memory_store/att*");
    }

    #[test]
    fn malformed_patterns_are_refused_with_the_reference_errors() {
        assert_eq!(
            "att*".parse::<ResourcePattern>(),
            Err(ResourceRefError::Shape)
        );
        assert!(matches!(
            "store/att*".parse::<ResourcePattern>(),
            Err(ResourceRefError::Kind(_))
        ));
        assert!(matches!(
            "memory_store/att *".parse::<ResourcePattern>(),
            Err(ResourceRefError::Name(_))
        ));
    }

    #[test]
    fn a_pattern_as_long_as_the_longest_name_is_accepted_and_one_longer_is_not() {
        // 62 fixed characters and a star can match a 63-character agent name; checking the
        // part inside `a…a` once counted 64 and refused it.
        let part = "x".repeat(62);
        let agents = pattern(&format!("agent/{part}*"));
        assert!(agents.matches(&r(&format!("agent/{part}y"))));
        let stores = pattern(&format!("memory_store/*{}", "s".repeat(256)));
        assert!(stores.matches(&r(&format!("memory_store/{}", "s".repeat(256)))));
        assert_eq!(
            format!("memory_store/*{}*", "s".repeat(257)).parse::<ResourcePattern>(),
            Err(ResourceRefError::Name(NameError::TooLong {
                len: 257,
                max: 256
            }))
        );
        assert_eq!(
            format!("agent/{}*{}", "a".repeat(40), "b".repeat(24)).parse::<ResourcePattern>(),
            Err(ResourceRefError::Name(NameError::TooLong {
                len: 64,
                max: 63
            }))
        );
    }
}
