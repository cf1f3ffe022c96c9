//! Identifier layouts as recorded. Ids only need to be unique and shaped like the service's, so a
//! fast non-cryptographic generator is enough; the emulator is never a security boundary.

use base64::Engine as _;
use std::time::{SystemTime, UNIX_EPOCH};

const MIXED: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

fn hex(n: usize) -> String {
    (0..n)
        .map(|_| char::from(b"0123456789abcdef"[fastrand::usize(..16)]))
        .collect()
}

fn mixed(n: usize) -> String {
    (0..n)
        .map(|_| char::from(MIXED[fastrand::usize(..MIXED.len())]))
        .collect()
}

/// 32 lowercase hex characters: request ids, search ids.
pub fn hex32() -> String {
    hex(32)
}

/// `memstore_` + 16 hex + `00` + 32 mixed-case alphanumerics.
pub fn memory_store() -> String {
    format!("memstore_{}00{}", hex(16), mixed(32))
}

/// `conv_` + 16 hex + `00` + 32 mixed-case alphanumerics (the store id's layout). The 16 hex
/// are the conversation's group: the ids of its items and responses start with them.
pub fn conversation() -> String {
    format!("conv_{}00{}", hex(16), mixed(32))
}

/// The group of a `conv_` id made by [`conversation`], `None` for any other layout.
pub fn group_of_conversation(id: &str) -> Option<&str> {
    let group = id.strip_prefix("conv_")?.get(..16)?;
    group
        .bytes()
        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        .then_some(group)
}

/// The id group of a conversation: the 16 hex its items' and responses' ids start with (a
/// fresh group for an id of another layout).
pub fn conversation_group(id: &str) -> String {
    group_of_conversation(id).map_or_else(group, str::to_owned)
}

/// Prefix + `group` + `00` + 32 mixed-case alphanumerics: items added to a conversation.
pub fn grouped_mixed(prefix: &str, group: &str) -> String {
    format!("{prefix}{group}00{}", mixed(32))
}

/// `conv_`-style prefix + 16 hex + `00` + 32 lowercase hex (`resp_`, `msg_`, `memupdateo_`).
/// `group` shares the first 16 hex between the ids of one response, as recorded.
pub fn grouped(prefix: &str, group: &str) -> String {
    format!("{prefix}{group}00{}", hex(32))
}

/// 16 hex characters that tie the ids of one response together.
pub fn group() -> String {
    hex(16)
}

/// `memory_id` since March 2026: base64url(scope) without padding, `_`, 32 hex.
pub fn memory_item(scope: &str) -> String {
    let prefix = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(scope.as_bytes());
    format!("{prefix}_{}", hex(32))
}

/// A random (version 4 layout) UUID, for `update_id`.
pub fn uuid() -> String {
    let h = hex(32);
    let variant = ["8", "9", "a", "b"][fastrand::usize(..4)];
    format!(
        "{}-{}-4{}-{}{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        variant,
        &h[17..20],
        &h[20..32]
    )
}

/// Whole seconds since the Unix epoch: every timestamp on the wire is an integer.
pub fn now_secs() -> i64 {
    now_millis() / 1000
}

/// Milliseconds since the Unix epoch, for update scheduling (finer than the wire's seconds).
pub fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_match_the_recordings() {
        let s = memory_store();
        assert_eq!(s.len(), "memstore_".len() + 50);
        assert_eq!(&s[25..27], "00");
        assert!(memory_item("user_123").starts_with("dXNlcl8xMjM_"));
        let u = uuid();
        assert_eq!(u.len(), 36);
        assert_eq!(u.as_bytes()[14], b'4');
        let g = group();
        assert!(grouped("resp_", &g).starts_with(&format!("resp_{g}00")));
        let c = conversation();
        assert_eq!(c.len(), "conv_".len() + 50);
        let cg = group_of_conversation(&c).unwrap();
        assert!(grouped_mixed("msg_", cg).starts_with(&format!("msg_{cg}00")));
        assert_eq!(group_of_conversation("conv_XYZ"), None);
    }
}
