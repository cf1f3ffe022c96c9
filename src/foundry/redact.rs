//! Credentials out of the text the client prints or logs. A gateway, a proxy or the service
//! itself may quote the request's `Authorization` header back in an error body; the client
//! must not then print its own token in the error message or the `-v`/`-vv` log.
//!
//! Two layers: the transport removes its own token, exactly, from every answer body before
//! anything reads it ([`redact`] with the token as a secret), whatever the token looks like;
//! and every message and log line loses what looks like a credential ([`redact`] with no
//! secrets): `Bearer …` values and JWTs. Answer bodies are not pattern-redacted: an agent's
//! definition may legitimately carry an MCP tool's `Authorization` header, which the planner
//! must compare as it is.

use std::borrow::Cow;

/// What a credential is replaced with.
pub const REDACTED: &str = "<redacted>";

/// Secrets shorter than this are not searched for: replacing every `t` of a message because a
/// test token is `t` would make it unreadable, and a real token is never that short.
const MIN_SECRET_LEN: usize = 8;

/// `text` with each of `secrets` (as is, or with `/` escaped as JSON may write it), every
/// `Bearer <credential>` and every JWT-looking token replaced by [`REDACTED`].
pub fn redact<'a>(text: &'a str, secrets: &[&str]) -> Cow<'a, str> {
    let mut out = Cow::Borrowed(text);
    for secret in secrets {
        if let Cow::Owned(redacted) = redact_secret(&out, secret) {
            out = Cow::Owned(redacted);
        }
    }
    match redact_patterns(&out) {
        Some(redacted) => Cow::Owned(redacted),
        None => out,
    }
}

/// `text` with `secret` (as is, or JSON-escaped) replaced, and nothing else: for answer bodies,
/// whose other credentials are data.
pub fn redact_secret<'a>(text: &'a str, secret: &str) -> Cow<'a, str> {
    if secret.len() < MIN_SECRET_LEN {
        return Cow::Borrowed(text);
    }
    let mut out = Cow::Borrowed(text);
    for form in [
        Cow::Borrowed(secret),
        Cow::Owned(secret.replace('/', "\\/")),
    ] {
        if out.contains(form.as_ref()) {
            out = Cow::Owned(out.replace(form.as_ref(), REDACTED));
        }
    }
    out
}

/// `text` with `Bearer` credentials and JWTs replaced, or `None` when it holds neither.
fn redact_patterns(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = String::new();
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        let at_word_start = i == 0 || !is_base64url(bytes[i - 1]);
        // Every matched byte is ASCII, so each index below is a char boundary.
        let span = if at_word_start {
            bearer_credential(bytes, i).or_else(|| jwt(bytes, i).map(|end| (i, end)))
        } else {
            None
        };
        match span {
            Some((start, end)) => {
                out.push_str(&text[copied..start]);
                out.push_str(REDACTED);
                copied = end;
                i = end;
            }
            None => i += 1,
        }
    }
    (copied > 0).then(|| {
        out.push_str(&text[copied..]);
        out
    })
}

/// At `i`, `Bearer` (any case), blanks, then a credential: the credential's span.
fn bearer_credential(bytes: &[u8], i: usize) -> Option<(usize, usize)> {
    const WORD: &[u8] = b"bearer";
    let word = bytes.get(i..i + WORD.len())?;
    if !word.eq_ignore_ascii_case(WORD) {
        return None;
    }
    let mut start = i + WORD.len();
    let blanks = bytes[start..]
        .iter()
        .take_while(|b| matches!(b, b' ' | b'\t'))
        .count();
    if blanks == 0 {
        return None;
    }
    start += blanks;
    // RFC 6750's token68 characters.
    let len = bytes[start..]
        .iter()
        .take_while(|&&b| is_base64url(b) || matches!(b, b'.' | b'~' | b'+' | b'/' | b'='))
        .count();
    // A credential, not a word ("the bearer of bad news", "bearer information"): real tokens
    // are long and hold digits or punctuation.
    let credential = &bytes[start..start + len];
    let looks_like_one =
        len >= MIN_SECRET_LEN && credential.iter().any(|b| !b.is_ascii_alphabetic());
    looks_like_one.then_some((start, start + len))
}

/// At `i`, a JWT (`eyJ…` header, `.`, payload, `.`, signature, base64url): where it ends.
fn jwt(bytes: &[u8], i: usize) -> Option<usize> {
    if !bytes[i..].starts_with(b"eyJ") {
        return None;
    }
    let segment = |from: usize| {
        bytes[from..]
            .iter()
            .take_while(|&&b| is_base64url(b))
            .count()
    };
    let header_end = i + segment(i);
    if bytes.get(header_end) != Some(&b'.') {
        return None;
    }
    let payload = segment(header_end + 1);
    let payload_end = header_end + 1 + payload;
    if payload == 0 || bytes.get(payload_end) != Some(&b'.') {
        return None;
    }
    Some(payload_end + 1 + segment(payload_end + 1))
}

fn is_base64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    const JWT: &str = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl";

    #[test]
    fn text_without_credentials_is_borrowed_unchanged() {
        for text in [
            "list agents: the project answered 404 Not Found",
            "the bearer of bad news",
            "Bearer information",
            "eyJ alone, and a.b.c",
            "",
        ] {
            assert!(matches!(redact(text, &[]), Cow::Borrowed(t) if t == text));
        }
    }

    #[test]
    fn bearer_credentials_and_jwts_are_replaced() {
        assert_eq!(
            redact("header 'Authorization: Bearer abc.DEF-123/+=' refused", &[]),
            "header 'Authorization: Bearer <redacted>' refused"
        );
        assert_eq!(redact("bearer\tx1y2z3w4", &[]), "bearer\t<redacted>");
        assert_eq!(
            redact(&format!("token={JWT}; again {JWT}."), &[]),
            "token=<redacted>; again <redacted>."
        );
        // Unsigned JWTs end with the second dot.
        assert_eq!(redact("eyJhbGciOiJub25lIn0.eyJ4IjoxfQ.", &[]), "<redacted>");
    }

    #[test]
    fn the_clients_own_token_is_replaced_whatever_it_looks_like() {
        let token = "opaque/S3CRET+token=";
        assert_eq!(
            redact(&format!("t={token} json=opaque\\/S3CRET+token="), &[token]),
            "t=<redacted> json=<redacted>"
        );
        // Too short to be a real token: not searched for.
        assert_eq!(redact("a test", &["t"]), "a test");
    }

    #[test]
    fn redacting_twice_changes_nothing() {
        let once = redact(&format!("Bearer {JWT} and {JWT}"), &[]).into_owned();
        assert_eq!(once, "Bearer <redacted> and <redacted>");
        assert_eq!(redact(&once, &[]), once);
    }
}
