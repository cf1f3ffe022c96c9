//! Each credential mode, as far as it can be exercised offline: configuration errors, the
//! `auto` chain's order and report, the token cache, and the token mode end to end.

use std::sync::atomic::{AtomicUsize, Ordering};

use azure_core::credentials::{AccessToken, TokenRequestOptions};

use super::*;

/// A credential that counts calls and hands out tokens with a fixed lifetime, or fails.
#[derive(Debug)]
struct Fake {
    calls: AtomicUsize,
    lifetime: Option<Duration>,
}

#[async_trait::async_trait]
impl TokenCredential for Fake {
    async fn get_token(
        &self,
        scopes: &[&str],
        _: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        assert_eq!(scopes, [SCOPE]);
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        match self.lifetime {
            Some(l) => Ok(AccessToken::new(
                format!("token-{n}"),
                OffsetDateTime::now_utc() + l,
            )),
            None => Err(azure_core::Error::with_message(
                azure_core::error::ErrorKind::Credential,
                "az not found on PATH\nsee https://aka.ms/troubleshoot",
            )),
        }
    }
}

fn fake(lifetime: Option<Duration>) -> Arc<Fake> {
    Arc::new(Fake {
        calls: AtomicUsize::new(0),
        lifetime,
    })
}

#[tokio::test]
async fn tokens_are_cached_until_shortly_before_expiry() {
    let long = fake(Some(Duration::from_secs(3600)));
    let chain = Chain::new(vec![Link::Ready("fake", long.clone())]);
    assert_eq!(chain.token().await.unwrap(), "token-0");
    assert_eq!(chain.token().await.unwrap(), "token-0");
    assert_eq!(long.calls.load(Ordering::SeqCst), 1);

    let short = fake(Some(Duration::from_secs(60)));
    let chain = Chain::new(vec![Link::Ready("fake", short.clone())]);
    assert_eq!(chain.token().await.unwrap(), "token-0");
    assert_eq!(
        chain.token().await.unwrap(),
        "token-1",
        "a token inside the refresh margin is replaced"
    );
}

#[tokio::test]
async fn the_chain_falls_through_and_remembers_the_winner() {
    let broken = fake(None);
    let works = fake(Some(Duration::from_secs(60)));
    let chain = Chain::new(vec![
        Link::Ready("broken", broken.clone()),
        Link::Ready("works", works.clone()),
    ]);
    chain.token().await.unwrap();
    chain.token().await.unwrap();
    assert_eq!(
        broken.calls.load(Ordering::SeqCst),
        1,
        "the failed credential is not retried first"
    );
    assert_eq!(works.calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn when_nothing_works_every_credential_is_listed_in_chain_order_with_its_reason() {
    let chain = Chain::new(vec![
        Link::Ready("client secret", fake(None)),
        Link::Skipped(Attempt::skipped(
            "workload identity",
            "not configured (AZURE_FEDERATED_TOKEN_FILE is not set)".into(),
        )),
        Link::Ready("Azure CLI", fake(None)),
        Link::Ready("Azure Developer CLI", fake(None)),
    ]);
    let error = chain.token().await.unwrap_err();
    let text = error.to_string();
    let hint = error.hint().unwrap();
    let listed: Vec<&str> = text.lines().filter(|l| l.starts_with("  - ")).collect();
    assert_eq!(
        listed,
        [
            "  - client secret: failed: az not found on PATH",
            "  - workload identity: skipped: not configured (AZURE_FEDERATED_TOKEN_FILE is not set)",
            "  - Azure CLI: failed: az not found on PATH",
            "  - Azure Developer CLI: failed: az not found on PATH",
        ],
        "{text}"
    );
    assert!(
        !text.contains("troubleshoot"),
        "only the first line of each reason: {text}"
    );
    assert!(!text.contains("hint"), "hints are data, not text: {text}");
    assert!(hint.starts_with("run `az login`"), "{hint}");
    assert!(hint.contains("Azure AI User"), "{hint}");
}

#[test]
fn token_mode_needs_foundry_token() {
    let error = Auth::from_mode(AuthMode::Token, &Env::default()).unwrap_err();
    let e = error.to_string();
    assert!(e.contains("FOUNDRY_TOKEN is not set"), "{e}");
    assert!(
        error.hint().unwrap().starts_with("export FOUNDRY_TOKEN="),
        "{e}"
    );
    let auth = Auth::from_mode(
        AuthMode::Token,
        &Env::from_pairs([("FOUNDRY_TOKEN", "abc\n")]),
    )
    .unwrap();
    assert!(
        !format!("{auth:?}").contains("abc"),
        "Debug never shows the token"
    );
}

#[test]
fn client_secret_mode_names_every_missing_variable() {
    let env = Env::from_pairs([("AZURE_CLIENT_ID", "id")]);
    let e = Auth::from_mode(AuthMode::ClientSecret, &env)
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with(
            "use client secret authentication: AZURE_TENANT_ID, AZURE_CLIENT_SECRET are not set"
        ),
        "{e}"
    );
    let env = Env::from_pairs([
        ("AZURE_CLIENT_ID", "id"),
        ("AZURE_TENANT_ID", "not a tenant!"),
        ("AZURE_CLIENT_SECRET", "s"),
    ]);
    assert!(
        Auth::from_mode(AuthMode::ClientSecret, &env).is_err(),
        "an invalid tenant id is refused offline"
    );
    let env = Env::from_pairs([
        ("AZURE_CLIENT_ID", "id"),
        ("AZURE_TENANT_ID", "contoso.onmicrosoft.com"),
        ("AZURE_CLIENT_SECRET", "s"),
    ]);
    assert!(Auth::from_mode(AuthMode::ClientSecret, &env).is_ok());
}

#[test]
fn workload_identity_mode_checks_the_token_file() {
    let env = Env::from_pairs([
        ("AZURE_CLIENT_ID", "id"),
        ("AZURE_TENANT_ID", "t"),
        ("AZURE_FEDERATED_TOKEN_FILE", "/nonexistent/token"),
    ]);
    let e = Auth::from_mode(AuthMode::WorkloadIdentity, &env)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("/nonexistent/token, which is not a readable file"),
        "{e}"
    );
    let file = tempfile::NamedTempFile::new().unwrap();
    let path = file.path().to_str().unwrap();
    let env = Env::from_pairs([
        ("AZURE_CLIENT_ID", "id"),
        ("AZURE_TENANT_ID", "contoso.onmicrosoft.com"),
        ("AZURE_FEDERATED_TOKEN_FILE", path),
    ]);
    assert!(Auth::from_mode(AuthMode::WorkloadIdentity, &env).is_ok());
}

#[test]
fn github_oidc_mode_explains_the_missing_permission() {
    let env = Env::from_pairs([("AZURE_CLIENT_ID", "id"), ("AZURE_TENANT_ID", "t")]);
    let error = Auth::from_mode(AuthMode::GithubOidc, &env).unwrap_err();
    let e = error.to_string();
    assert!(
        e.contains("ACTIONS_ID_TOKEN_REQUEST_URL, ACTIONS_ID_TOKEN_REQUEST_TOKEN are not set"),
        "{e}"
    );
    assert!(
        error
            .hint()
            .unwrap()
            .contains("permissions: id-token: write"),
        "{e}"
    );
    let env = Env::from_pairs([
        ("ACTIONS_ID_TOKEN_REQUEST_URL", "https://x/"),
        ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "t"),
    ]);
    let e = Auth::from_mode(AuthMode::GithubOidc, &env)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("AZURE_TENANT_ID, AZURE_CLIENT_ID are not set"),
        "{e}"
    );
}

fn skipped(chain: &Chain) -> Vec<&Attempt> {
    chain
        .links
        .iter()
        .filter_map(|link| match link {
            Link::Skipped(attempt) => Some(attempt),
            Link::Ready(..) => None,
        })
        .collect()
}

#[test]
fn auto_skips_unconfigured_credentials_and_keeps_the_developer_tools() {
    let Auth::Entra(chain) = Auth::from_mode(AuthMode::Auto, &Env::default()).unwrap() else {
        panic!("auto is a chain")
    };
    assert_eq!(chain.names(), ["Azure CLI", "Azure Developer CLI"]);
    assert_eq!(skipped(&chain).len(), 3);
    let env = Env::from_pairs([
        ("AZURE_CLIENT_SECRET", "s"),
        ("AZURE_CLIENT_ID", "id"),
        ("AZURE_TENANT_ID", "contoso.onmicrosoft.com"),
    ]);
    let Auth::Entra(chain) = Auth::from_mode(AuthMode::Auto, &env).unwrap() else {
        panic!("auto is a chain")
    };
    assert_eq!(
        chain.names(),
        ["client secret", "Azure CLI", "Azure Developer CLI"]
    );
    // Configured but broken: noted, not fatal.
    let env = Env::from_pairs([("AZURE_FEDERATED_TOKEN_FILE", "/nonexistent")]);
    let Auth::Entra(chain) = Auth::from_mode(AuthMode::Auto, &env).unwrap() else {
        panic!("auto is a chain")
    };
    assert!(
        skipped(&chain)
            .iter()
            .any(|a| a.credential == "workload identity" && a.reason.contains("not set"))
    );
}

/// A credential with a cache of its own, as azure_identity's have: the same token until the
/// credential is built again.
#[derive(Debug)]
struct Cached(&'static str);

#[async_trait::async_trait]
impl TokenCredential for Cached {
    async fn get_token(
        &self,
        _: &[&str],
        _: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        Ok(AccessToken::new(
            self.0,
            OffsetDateTime::now_utc() + Duration::from_secs(3600),
        ))
    }
}

#[tokio::test]
async fn a_refused_token_is_replaced_by_one_from_a_rebuilt_credential() {
    let mut chain = Chain::new(vec![Link::Ready("cached", Arc::new(Cached("old")))]);
    let builds = Arc::new(AtomicUsize::new(0));
    let counter = builds.clone();
    chain.rebuild = vec![Some(Box::new(move || {
        counter.fetch_add(1, Ordering::SeqCst);
        Some(Arc::new(Cached("new")) as Arc<dyn TokenCredential>)
    }))];
    assert_eq!(chain.token().await.unwrap(), "old");
    assert!(chain.refresh("old").await);
    // Requests that met the same 401 meanwhile retry too, without another rebuild.
    assert!(chain.refresh("old").await);
    assert_eq!(chain.token().await.unwrap(), "new");
    // A refusal of a token already replaced (a concurrent request) keeps the new one.
    assert!(chain.refresh("old").await);
    assert_eq!(chain.token().await.unwrap(), "new");
    assert_eq!(builds.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_fixed_token_is_never_refreshed() {
    let auth =
        Auth::from_mode(AuthMode::Token, &Env::from_pairs([("FOUNDRY_TOKEN", "t")])).unwrap();
    assert!(!auth.refresh("t").await);
    assert!(!Auth::None.refresh("t").await);
}

#[test]
fn the_authority_host_comes_from_the_environment_and_must_be_https() {
    let base = [
        ("AZURE_CLIENT_ID", "id"),
        ("AZURE_TENANT_ID", "contoso.onmicrosoft.com"),
        ("AZURE_CLIENT_SECRET", "s"),
    ];
    let with = |host: &'static str| {
        let mut pairs = base.to_vec();
        pairs.push(("AZURE_AUTHORITY_HOST", host));
        Env::from_pairs(pairs)
    };
    let e = Auth::from_mode(AuthMode::ClientSecret, &with("http://127.0.0.1:1"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("AZURE_AUTHORITY_HOST is http://127.0.0.1:1, not an https URL"),
        "{e}"
    );
    assert!(Auth::from_mode(AuthMode::ClientSecret, &with("https://127.0.0.1:1/")).is_ok());
}
