//! HTTPS with a generated self-signed certificate. The official SDKs refuse to send a bearer
//! token over plain HTTP, so `--tls` gives them a loopback endpoint they accept once told to
//! trust `cert.pem`. The certificate is made once per data directory and reused afterwards, so
//! a client configured to trust it keeps working across restarts.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

/// Loads or creates `dir/cert.pem` + `dir/key.pem` (for `localhost`, `127.0.0.1`, `::1`) and
/// returns the acceptor and the certificate's path.
pub fn acceptor(dir: &Path) -> anyhow::Result<(TlsAcceptor, PathBuf)> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("failed to create the TLS directory {}", dir.display()))?;
    let cert_path = dir.join("cert.pem");
    let key_path = dir.join("key.pem");
    if !cert_path.exists() || !key_path.exists() {
        let names = vec![
            "localhost".to_owned(),
            "127.0.0.1".to_owned(),
            "::1".to_owned(),
        ];
        let certified = rcgen::generate_simple_self_signed(names)
            .context("failed to generate a self-signed certificate")?;
        std::fs::write(&cert_path, certified.cert.pem())
            .with_context(|| format!("failed to write {}", cert_path.display()))?;
        std::fs::write(&key_path, certified.signing_key.serialize_pem())
            .with_context(|| format!("failed to write {}", key_path.display()))?;
    }
    let certs = CertificateDer::pem_file_iter(&cert_path)
        .with_context(|| format!("failed to read {}", cert_path.display()))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("failed to parse {}", cert_path.display()))?;
    let key = PrivateKeyDer::from_pem_file(&key_path)
        .with_context(|| format!("failed to read {}", key_path.display()))?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("failed to configure TLS")?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .context("failed to load the emulator certificate")?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok((TlsAcceptor::from(Arc::new(config)), cert_path))
}
