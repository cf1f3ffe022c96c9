//! Credentials: turning `--auth` into bearer tokens for the scope `https://ai.azure.com/.default`.
//!
//! azure_identity 1.x removed `DefaultAzureCredential` on purpose, so `auto` is built here: it
//! tries, in order, a client secret from the environment, workload identity (a federated token
//! file), GitHub Actions OIDC (exchanged as a client assertion), then the Azure CLI and azd.
//! Managed identity is never part of `auto` (its IMDS probe retries for over a minute on
//! machines that have none); it is used only when asked for.
//!
//! Tokens are cached here and refreshed five minutes before they expire (the CLI credentials do
//! not cache, and spawning `az` per request would dominate a plan). When the project refuses a
//! cached token anyway (401: revoked, or a clock skew), [`Auth::refresh`] drops it and rebuilds
//! the credential, whose own cache would otherwise hand the same token back; the transport
//! retries that request once. Tokens are never printed or logged: the only place a token
//! becomes text is the `Authorization` header, which is marked sensitive and redacted in logs.
//!
//! The Entra credentials (client secret, workload identity, GitHub OIDC) ask the authority host
//! `AZURE_AUTHORITY_HOST` when set (read from the environment snapshot, so `.env` counts), else
//! the public cloud's, as azure_identity does; it must be https.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use azure_core::cloud::{CloudConfiguration, CustomConfiguration};
use azure_core::credentials::{Secret, TokenCredential};
use azure_core::http::ClientOptions;
use azure_core::time::OffsetDateTime;
use azure_identity::{
    AzureCliCredential, AzureDeveloperCliCredential, ClientAssertion, ClientAssertionCredential,
    ClientAssertionCredentialOptions, ClientSecretCredential, ClientSecretCredentialOptions,
    ManagedIdentityCredential, ManagedIdentityCredentialOptions, UserAssignedId,
    WorkloadIdentityCredential, WorkloadIdentityCredentialOptions,
};

use crate::env::Env;

/// How to authenticate to Azure (`--auth`). It derives `clap::ValueEnum` here, where the
/// concept lives, so the command line depends on the client and never the reverse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum AuthMode {
    /// Client secret, workload identity, GitHub Actions OIDC, then Azure CLI and azd.
    #[default]
    Auto,
    /// Azure CLI (`az login`).
    Cli,
    /// Azure Developer CLI (`azd auth login`).
    Azd,
    /// Managed identity (App Service, Container Apps, VMs); only when asked for.
    ManagedIdentity,
    /// Workload identity (AZURE_FEDERATED_TOKEN_FILE).
    WorkloadIdentity,
    /// AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_CLIENT_SECRET.
    ClientSecret,
    /// GitHub Actions OIDC exchanged as a client assertion.
    GithubOidc,
    /// A raw bearer token from FOUNDRY_TOKEN.
    Token,
}

/// The one scope every Foundry data-plane call needs.
pub const SCOPE: &str = "https://ai.azure.com/.default";

/// Refresh this long before expiry, so a token never expires between check and use.
const REFRESH_MARGIN: Duration = Duration::from_secs(300);

/// One credential's whole attempt (a CLI spawn, a token exchange) may take this long.
const CREDENTIAL_TIMEOUT: Duration = Duration::from_secs(30);

const ROLE_HINT: &str = "the identity also needs the `Azure AI User` role on the Foundry project";

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// A mode chosen with `--auth` lacks its configuration.
    #[error("use {mode} authentication: {problem}")]
    NotConfigured {
        mode: &'static str,
        problem: String,
        hint: String,
    },
    /// Every credential tried failed. `attempts` are in the order the chain considered them,
    /// skipped and failed interleaved, so the list reads as what happened.
    #[error(
        "get a token for {SCOPE}: no credential worked{}",
        attempts.iter().map(|a| format!("\n  - {a}")).collect::<String>()
    )]
    NoCredential { attempts: Vec<Attempt> },
}

impl AuthError {
    /// What to do about it; `main` prints it after the error chain.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            AuthError::NotConfigured { hint, .. } => hint.clone(),
            AuthError::NoCredential { .. } => format!(
                "run `az login` (or `azd auth login`), set FOUNDRY_TOKEN and pass --auth token, \
                 or pick a mode with --auth; {ROLE_HINT}"
            ),
        })
    }
}

/// One credential considered and why it did not give a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub credential: String,
    /// Whether the credential was asked for a token (it failed) or never asked (skipped:
    /// unconfigured or misconfigured).
    pub tried: bool,
    pub reason: String,
}

impl Attempt {
    fn skipped(credential: &str, reason: String) -> Self {
        Self {
            credential: credential.to_owned(),
            tried: false,
            reason,
        }
    }

    fn failed(credential: &str, reason: String) -> Self {
        Self {
            credential: credential.to_owned(),
            tried: true,
            reason,
        }
    }
}

impl fmt::Display for Attempt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = if self.tried { "failed" } else { "skipped" };
        write!(f, "{}: {what}: {}", self.credential, self.reason)
    }
}

/// How requests are authorised.
pub enum Auth {
    /// The local emulator: no `Authorization` header at all.
    None,
    /// `--auth token`: a raw bearer token from `FOUNDRY_TOKEN`, used as is.
    Static(Secret),
    /// An Entra credential (or an ordered chain for `auto`), with a token cache.
    Entra(Chain),
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::None => f.write_str("Auth::None"),
            Auth::Static(_) => f.write_str("Auth::Static(<redacted>)"),
            Auth::Entra(chain) => f.debug_tuple("Auth::Entra").field(&chain.names()).finish(),
        }
    }
}

impl Auth {
    /// The credential `--auth MODE` asks for, checked against `env` without any network.
    pub fn from_mode(mode: AuthMode, env: &Env) -> Result<Auth, AuthError> {
        match mode {
            AuthMode::Token => {
                let token = env.get("FOUNDRY_TOKEN").ok_or_else(|| AuthError::NotConfigured {
                    mode: "token",
                    problem: "FOUNDRY_TOKEN is not set".into(),
                    hint: format!(
                        "export FOUNDRY_TOKEN=\"$(az account get-access-token --resource https://ai.azure.com --query accessToken -o tsv)\"; {ROLE_HINT}"
                    ),
                })?;
                Ok(Auth::Static(Secret::new(token.trim().to_owned())))
            }
            AuthMode::Auto => Ok(Auth::Entra(Chain::auto(env))),
            other => {
                let (name, credential) = single(other, env)?;
                let mut chain = Chain::new(vec![Link::Ready(name, credential)]);
                chain.rebuild = vec![Some(rebuilder(other, env))];
                Ok(Auth::Entra(chain))
            }
        }
    }

    /// Whether requests carry a bearer token at all.
    pub fn needs_token(&self) -> bool {
        !matches!(self, Auth::None)
    }

    /// After the project refused `rejected` (401): forget it and make the next [`Auth::bearer`]
    /// fetch a new token from a fresh credential. Whether asking again can help: never for a
    /// fixed token (or none).
    pub async fn refresh(&self, rejected: &str) -> bool {
        match self {
            Auth::None | Auth::Static(_) => false,
            Auth::Entra(chain) => chain.refresh(rejected).await,
        }
    }

    /// The bearer token to send, fetched or refreshed when needed.
    pub async fn bearer(&self) -> Result<Option<String>, AuthError> {
        match self {
            Auth::None => Ok(None),
            Auth::Static(token) => Ok(Some(token.secret().to_owned())),
            Auth::Entra(chain) => chain.token().await.map(Some),
        }
    }
}

/// One explicit mode's credential, or why it cannot be built.
fn single(
    mode: AuthMode,
    env: &Env,
) -> Result<(&'static str, Arc<dyn TokenCredential>), AuthError> {
    let built: Result<Arc<dyn TokenCredential>, AuthError> = match mode {
        AuthMode::Cli => AzureCliCredential::new(None)
            .map(|c| c as Arc<dyn TokenCredential>)
            .map_err(|e| not_configured("Azure CLI", e, "run `az login`")),
        AuthMode::Azd => AzureDeveloperCliCredential::new(None)
            .map(|c| c as Arc<dyn TokenCredential>)
            .map_err(|e| not_configured("Azure Developer CLI", e, "run `azd auth login`")),
        AuthMode::ManagedIdentity => {
            let options = ManagedIdentityCredentialOptions {
                user_assigned_id: env
                    .get("AZURE_CLIENT_ID")
                    .map(|id| UserAssignedId::ClientId(id.to_owned())),
                ..Default::default()
            };
            ManagedIdentityCredential::new(Some(options))
                .map(|c| c as Arc<dyn TokenCredential>)
                .map_err(|e| not_configured("managed identity", e, "managed identity works only on Azure compute (App Service, Container Apps, Functions, VMs)"))
        }
        AuthMode::ClientSecret => client_secret(env),
        AuthMode::WorkloadIdentity => workload_identity(env),
        AuthMode::GithubOidc => github_oidc(env),
        AuthMode::Auto | AuthMode::Token => unreachable_mode(mode),
    };
    Ok((label(mode), built?))
}

/// `Auto` and `Token` are handled by [`Auth::from_mode`] before [`single`] is called; this
/// keeps the match exhaustive without a panic.
fn unreachable_mode(mode: AuthMode) -> Result<Arc<dyn TokenCredential>, AuthError> {
    Err(AuthError::NotConfigured {
        mode: label(mode),
        problem: "this mode is not a single credential".into(),
        hint: "pick another --auth mode".into(),
    })
}

fn label(mode: AuthMode) -> &'static str {
    match mode {
        AuthMode::Auto => "auto",
        AuthMode::Cli => "Azure CLI",
        AuthMode::Azd => "Azure Developer CLI",
        AuthMode::ManagedIdentity => "managed identity",
        AuthMode::WorkloadIdentity => "workload identity",
        AuthMode::ClientSecret => "client secret",
        AuthMode::GithubOidc => "GitHub Actions OIDC",
        AuthMode::Token => "token",
    }
}

fn not_configured(mode: &'static str, error: azure_core::Error, hint: &str) -> AuthError {
    AuthError::NotConfigured {
        mode,
        problem: first_line(&error.to_string()),
        hint: hint.to_owned(),
    }
}

/// The variables a mode needs, all of them reported at once when some are missing.
fn require<'a>(
    env: &'a Env,
    mode: &'static str,
    names: &[&str],
    hint: &str,
) -> Result<Vec<&'a str>, AuthError> {
    let missing: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| env.get(n).is_none())
        .collect();
    if missing.is_empty() {
        return Ok(names.iter().filter_map(|n| env.get(n)).collect());
    }
    Err(AuthError::NotConfigured {
        mode,
        problem: format!(
            "{} {} not set",
            missing.join(", "),
            if missing.len() == 1 { "is" } else { "are" }
        ),
        hint: hint.to_owned(),
    })
}

/// Options pointing an Entra credential at `AZURE_AUTHORITY_HOST` when it is set (azure_identity
/// would read the process environment only; this reads the snapshot, `.env` included).
fn client_options(env: &Env, mode: &'static str) -> Result<ClientOptions, AuthError> {
    let Some(host) = env.get("AZURE_AUTHORITY_HOST").map(str::trim) else {
        return Ok(ClientOptions::default());
    };
    if !host.starts_with("https://") {
        return Err(AuthError::NotConfigured {
            mode,
            problem: format!("AZURE_AUTHORITY_HOST is {host}, not an https URL"),
            hint: "unset it for the public cloud, or give the https authority host of your cloud \
                   (https://login.microsoftonline.us, https://login.chinacloudapi.cn)"
                .into(),
        });
    }
    let mut custom = CustomConfiguration::default();
    custom.authority_host = host.trim_end_matches('/').to_owned();
    Ok(ClientOptions {
        cloud: Some(Arc::new(CloudConfiguration::from(custom))),
        ..Default::default()
    })
}

fn client_secret(env: &Env) -> Result<Arc<dyn TokenCredential>, AuthError> {
    let mode = "client secret";
    let vars = require(
        env,
        mode,
        &["AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET"],
        "set the app registration's tenant id, client id and secret",
    )?;
    let options = ClientSecretCredentialOptions {
        client_options: client_options(env, mode)?,
    };
    ClientSecretCredential::new(
        vars[0],
        vars[1].to_owned(),
        Secret::new(vars[2].to_owned()),
        Some(options),
    )
    .map(|c| c as Arc<dyn TokenCredential>)
    .map_err(|e| {
        not_configured(
            mode,
            e,
            "AZURE_TENANT_ID must be a tenant id (a GUID) or domain",
        )
    })
}

fn workload_identity(env: &Env) -> Result<Arc<dyn TokenCredential>, AuthError> {
    let mode = "workload identity";
    let vars = require(
        env,
        mode,
        &[
            "AZURE_TENANT_ID",
            "AZURE_CLIENT_ID",
            "AZURE_FEDERATED_TOKEN_FILE",
        ],
        "workload identity is set up by AKS (azure.workload.identity/use: \"true\"); elsewhere use another --auth mode",
    )?;
    let file = PathBuf::from(vars[2]);
    if !file.is_file() {
        return Err(AuthError::NotConfigured {
            mode,
            problem: format!(
                "AZURE_FEDERATED_TOKEN_FILE names {}, which is not a readable file",
                file.display()
            ),
            hint: "check the projected service account token volume".into(),
        });
    }
    let options = WorkloadIdentityCredentialOptions {
        credential_options: ClientAssertionCredentialOptions {
            client_options: client_options(env, mode)?,
        },
        tenant_id: Some(vars[0].to_owned()),
        client_id: Some(vars[1].to_owned()),
        token_file_path: Some(file),
    };
    WorkloadIdentityCredential::new(Some(options))
        .map(|c| c as Arc<dyn TokenCredential>)
        .map_err(|e| not_configured(mode, e, "check AZURE_TENANT_ID and AZURE_CLIENT_ID"))
}

fn github_oidc(env: &Env) -> Result<Arc<dyn TokenCredential>, AuthError> {
    let mode = "GitHub Actions OIDC";
    require(
        env,
        mode,
        &[
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
        ],
        "give the workflow job `permissions: id-token: write`",
    )?;
    let vars = require(
        env,
        mode,
        &["AZURE_TENANT_ID", "AZURE_CLIENT_ID"],
        "set AZURE_TENANT_ID and AZURE_CLIENT_ID of the app registration that trusts this repository (a federated credential)",
    )?;
    let assertion = GithubOidc {
        request_url: env
            .get("ACTIONS_ID_TOKEN_REQUEST_URL")
            .unwrap_or_default()
            .to_owned(),
        request_token: Secret::new(
            env.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
                .unwrap_or_default()
                .to_owned(),
        ),
    };
    let options = ClientAssertionCredentialOptions {
        client_options: client_options(env, mode)?,
    };
    ClientAssertionCredential::new(
        vars[0].to_owned(),
        vars[1].to_owned(),
        assertion,
        Some(options),
    )
    .map(|c| c as Arc<dyn TokenCredential>)
    .map_err(|e| not_configured(mode, e, "check AZURE_TENANT_ID and AZURE_CLIENT_ID"))
}

/// Fetches the GitHub Actions ID token (audience `api://AzureADTokenExchange`) each time Entra
/// needs a fresh assertion; GitHub's tokens are short-lived, so it is never cached here.
#[derive(Debug)]
pub struct GithubOidc {
    request_url: String,
    request_token: Secret,
}

impl GithubOidc {
    pub fn new(request_url: &str, request_token: &str) -> Self {
        Self {
            request_url: request_url.to_owned(),
            request_token: Secret::new(request_token.to_owned()),
        }
    }
}

#[async_trait::async_trait]
impl ClientAssertion for GithubOidc {
    async fn secret(
        &self,
        _: Option<azure_core::http::ClientMethodOptions<'_>>,
    ) -> azure_core::Result<String> {
        #[derive(serde::Deserialize)]
        struct IdToken {
            value: String,
        }
        let fail = |e: String| {
            azure_core::Error::with_message(
                azure_core::error::ErrorKind::Credential,
                format!("GitHub OIDC token request failed: {e}"),
            )
        };
        let token: IdToken = reqwest::Client::new()
            .get(&self.request_url)
            .query(&[("audience", "api://AzureADTokenExchange")])
            .bearer_auth(self.request_token.secret())
            .timeout(CREDENTIAL_TIMEOUT)
            .send()
            .await
            .map_err(|e| fail(e.to_string()))?
            .error_for_status()
            .map_err(|e| fail(e.to_string()))?
            .json()
            .await
            .map_err(|e| fail(e.to_string()))?;
        Ok(token.value)
    }
}

/// Credentials tried in order, with the token cache. Remembers the one that worked, so later
/// refreshes go straight to it.
pub struct Chain {
    /// Every credential considered, in order; the skipped ones are kept in place so that the
    /// final error lists them where they were considered.
    links: Vec<Link>,
    /// Indexed like `links`: how to build that credential afresh, with an empty cache of its
    /// own, after the project refused its token. `None`: asked again as it is.
    rebuild: Vec<Option<Rebuild>>,
    cache: tokio::sync::Mutex<Cache>,
}

/// Builds a credential again from the same configuration.
type Rebuild = Box<dyn Fn() -> Option<Arc<dyn TokenCredential>> + Send + Sync>;

fn rebuilder(mode: AuthMode, env: &Env) -> Rebuild {
    let env = env.clone();
    Box::new(move || single(mode, &env).ok().map(|(_, credential)| credential))
}

/// One place in a [`Chain`].
pub enum Link {
    /// A credential that will be asked for a token.
    Ready(&'static str, Arc<dyn TokenCredential>),
    /// A credential `auto` considered but could not build, reported if nothing works.
    Skipped(Attempt),
}

#[derive(Default)]
struct Cache {
    token: Option<(Secret, OffsetDateTime)>,
    winner: Option<usize>,
    /// Credentials rebuilt by [`Chain::refresh`], in place of the link's own.
    renewed: std::collections::HashMap<usize, Arc<dyn TokenCredential>>,
}

impl Chain {
    pub fn new(links: Vec<Link>) -> Self {
        Self {
            rebuild: links.iter().map(|_| None).collect(),
            links,
            cache: tokio::sync::Mutex::new(Cache::default()),
        }
    }

    /// The `auto` chain for this environment. A credential whose variables are absent is noted
    /// as skipped (and named in the final error); one that is configured but broken is noted
    /// with its problem; neither stops the chain.
    pub fn auto(env: &Env) -> Self {
        let mut links = Vec::new();
        let mut rebuild = Vec::new();
        let candidates: [(AuthMode, &str); 3] = [
            (AuthMode::ClientSecret, "AZURE_CLIENT_SECRET"),
            (AuthMode::WorkloadIdentity, "AZURE_FEDERATED_TOKEN_FILE"),
            (AuthMode::GithubOidc, "ACTIONS_ID_TOKEN_REQUEST_URL"),
        ];
        for (mode, trigger) in candidates {
            if env.get(trigger).is_none() {
                links.push(Link::Skipped(Attempt::skipped(
                    label(mode),
                    format!("not configured ({trigger} is not set)"),
                )));
                rebuild.push(None);
                continue;
            }
            links.push(Self::link(mode, env));
            rebuild.push(Some(rebuilder(mode, env)));
        }
        for mode in [AuthMode::Cli, AuthMode::Azd] {
            links.push(Self::link(mode, env));
            // The CLI credentials keep no cache: asking again runs the tool again.
            rebuild.push(None);
        }
        Self {
            rebuild,
            ..Self::new(links)
        }
    }

    fn link(mode: AuthMode, env: &Env) -> Link {
        match single(mode, env) {
            Ok((name, credential)) => Link::Ready(name, credential),
            Err(e) => Link::Skipped(Attempt::skipped(label(mode), first_line(&e.to_string()))),
        }
    }

    /// The credentials that will be asked, in order.
    pub fn names(&self) -> Vec<&'static str> {
        self.links
            .iter()
            .filter_map(|link| match link {
                Link::Ready(name, _) => Some(*name),
                Link::Skipped(_) => None,
            })
            .collect()
    }

    /// A valid token: the cached one while it has more than [`REFRESH_MARGIN`] left, else a new
    /// one from the remembered credential, else from each credential in order.
    pub async fn token(&self) -> Result<String, AuthError> {
        let mut cache = self.cache.lock().await;
        let now = OffsetDateTime::now_utc();
        if let Some((token, expires_on)) = &cache.token
            && *expires_on - now > REFRESH_MARGIN
        {
            return Ok(token.secret().to_owned());
        }
        // Indexed like `links`, so the error lists attempts in chain order even when the
        // remembered winner was asked first.
        let mut attempts: Vec<Option<Attempt>> = self
            .links
            .iter()
            .map(|link| match link {
                Link::Skipped(attempt) => Some(attempt.clone()),
                Link::Ready(..) => None,
            })
            .collect();
        let order: Vec<usize> = cache
            .winner
            .into_iter()
            .chain((0..self.links.len()).filter(|i| Some(*i) != cache.winner))
            .collect();
        for index in order {
            let Link::Ready(name, credential) = &self.links[index] else {
                continue;
            };
            let credential = cache.renewed.get(&index).unwrap_or(credential).clone();
            let result =
                tokio::time::timeout(CREDENTIAL_TIMEOUT, credential.get_token(&[SCOPE], None))
                    .await;
            match result {
                Ok(Ok(token)) => {
                    let secret = token.token.secret().to_owned();
                    tracing::debug!(target: "foundryctl::auth", "token from {name}, expires {}", token.expires_on);
                    cache.token = Some((token.token, token.expires_on));
                    cache.winner = Some(index);
                    return Ok(secret);
                }
                Ok(Err(e)) => {
                    attempts[index] = Some(Attempt::failed(name, first_line(&e.to_string())));
                }
                Err(_) => {
                    attempts[index] = Some(Attempt::failed(
                        name,
                        format!("no token within {} s", CREDENTIAL_TIMEOUT.as_secs()),
                    ));
                }
            }
        }
        Err(AuthError::NoCredential {
            attempts: attempts.into_iter().flatten().collect(),
        })
    }
}

impl Chain {
    /// See [`Auth::refresh`]. When the cached token is no longer `rejected` (a concurrent
    /// request that met the same 401 refreshed it already), the cache is left as it is: the
    /// retry takes the new token, or fetches one if none is cached yet.
    pub async fn refresh(&self, rejected: &str) -> bool {
        let mut cache = self.cache.lock().await;
        let still_cached = cache
            .token
            .as_ref()
            .is_some_and(|(token, _)| token.secret() == rejected);
        if !still_cached {
            return true;
        }
        cache.token = None;
        if let Some(winner) = cache.winner
            && let Some(Some(rebuild)) = self.rebuild.get(winner)
            && let Some(fresh) = rebuild()
        {
            cache.renewed.insert(winner, fresh);
        }
        tracing::debug!(target: "foundryctl::auth", "the project refused the cached token; fetching a new one");
        true
    }
}

/// Credential errors can span many lines (troubleshooting links, JSON); the list shows one.
fn first_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("unknown error")
        .to_owned()
}

#[cfg(test)]
mod tests;
