//! `-v` / `-vv`: what the client logs, to stderr. `-v` shows one line per HTTP request
//! (method, path, status, duration, request id), credential choices and the files a `-f DIR`
//! walk skipped; `-vv` adds retries,
//! request headers (Authorization redacted) and bodies. Without a flag only warnings show,
//! and none of the TLS stack's (foundryctl's error says what went wrong).
//! `RUST_LOG`, when set, replaces these defaults.

use std::io::IsTerminal;

/// The tracing filter for a `-v` count.
pub fn filter_for(verbose: u8) -> &'static str {
    match verbose {
        // The TLS stack logs what foundryctl's own error then says again (an untrusted
        // certificate, an unreadable certificate store): shown from -v on.
        0 => "warn,rustls=off,rustls_platform_verifier=off",
        1 => "warn,foundryctl::http=info,foundryctl::auth=info,foundryctl::manifests=info",
        _ => "info,foundryctl=debug,foundryctl::http::body=debug",
    }
}

/// Installs the stderr subscriber once per process; later calls are no-ops (tests call it
/// freely). Colour only when stderr is a terminal and `NO_COLOR` is unset.
pub fn init(verbose: u8) {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|v| tracing_subscriber::EnvFilter::try_new(v).ok())
        .unwrap_or_else(|| tracing_subscriber::EnvFilter::new(filter_for(verbose)));
    let ansi = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| Redacting(std::io::stderr()))
        .with_ansi(ansi)
        .with_target(false)
        .without_time()
        .try_init();
}

/// A log writer that redacts credentials (`Bearer …`, JWTs) from each line: `-vv` prints
/// request bodies, whose MCP tool headers may hold one, and answers that may quote one. The
/// formatter writes each event whole, so a credential is never split across two writes.
struct Redacting<W>(W);

impl<W: std::io::Write> std::io::Write for Redacting<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        self.0
            .write_all(super::redact::redact(&text, &[]).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_lines_lose_their_credentials() {
        use std::io::Write as _;
        let mut out = Redacting(Vec::new());
        out.write_all(
            b"> POST /agents [..] {\"headers\":{\"Authorization\":\"Bearer gh0_s3cret\"}}\n",
        )
        .unwrap();
        let text = String::from_utf8(out.0).unwrap();
        assert_eq!(
            text,
            "> POST /agents [..] {\"headers\":{\"Authorization\":\"Bearer <redacted>\"}}\n"
        );
    }

    #[test]
    fn bodies_are_logged_only_at_double_verbose() {
        assert!(!filter_for(0).contains("foundryctl::http"));
        assert!(filter_for(0).contains("rustls=off"));
        assert!(!filter_for(1).contains("rustls"));
        assert!(filter_for(1).contains("foundryctl::http=info"));
        assert!(!filter_for(1).contains("body"));
        assert!(filter_for(2).contains("foundryctl::http::body=debug"));
        for v in 0..3 {
            assert!(tracing_subscriber::EnvFilter::try_new(filter_for(v)).is_ok());
        }
    }
}
