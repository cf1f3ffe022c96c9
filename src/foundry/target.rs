//! Which project a command talks to (README.md, "The local emulator"), and the one-line description every command
//! prints first.
//!
//! In order: `--endpoint URL|local[:DIR]`; `PROJECT_ENDPOINT` from the environment; the same
//! variable from a `.env` file in the working directory (the environment wins over the file);
//! otherwise the embedded emulator under `.foundryctl/local`. That last, implicit default is
//! refused in a pipeline (`CI` or `TF_BUILD` set): one that forgot its endpoint must fail, not "succeed"
//! against a throwaway local project. `--endpoint local` is always allowed.

use std::path::PathBuf;

use reqwest::Url;

use super::transport::is_loopback;
use crate::env::Env;

pub const ENDPOINT_VAR: &str = "PROJECT_ENDPOINT";
pub const DEFAULT_LOCAL_DIR: &str = ".foundryctl/local";

/// Where the endpoint came from, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Flag,
    Environment,
    DotEnv,
    /// Nothing was configured.
    Default,
}

impl Origin {
    fn describe(self) -> &'static str {
        match self {
            Origin::Flag => "--endpoint",
            Origin::Environment => "PROJECT_ENDPOINT",
            Origin::DotEnv => "PROJECT_ENDPOINT in .env",
            Origin::Default => "the default",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A Foundry project endpoint.
    Remote { url: Url, origin: Origin },
    /// The embedded emulator, persisting under `dir`.
    Local { dir: PathBuf, origin: Origin },
}

#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error(
        "choose a project: no endpoint is configured, and the local emulator is not used implicitly in a pipeline (CI or TF_BUILD is set)"
    )]
    ImplicitLocalInCi,
    #[error("use the endpoint {value:?} from {}: {reason}", origin.describe())]
    Invalid {
        value: String,
        origin: Origin,
        reason: String,
    },
}

impl TargetError {
    /// What to do about it; `main` prints it after the error chain.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            TargetError::ImplicitLocalInCi => "pass --endpoint https://ACCOUNT.services.ai.azure.com/api/projects/PROJECT or set PROJECT_ENDPOINT; \
                 pass --endpoint local to use the emulator on purpose"
                .to_owned(),
            TargetError::Invalid { .. } => "expected https://ACCOUNT.services.ai.azure.com/api/projects/PROJECT, or local[:DIR] for the emulator"
                .to_owned(),
        })
    }
}

impl Target {
    /// Resolves the target from the flag and the environment (already merged with `.env`).
    pub fn resolve(flag: Option<&str>, env: &Env) -> Result<Target, TargetError> {
        if let Some(value) = flag {
            return parse(value, Origin::Flag);
        }
        if let Some(value) = env.get(ENDPOINT_VAR) {
            return parse(
                value,
                if env.is_from_dotenv(ENDPOINT_VAR) {
                    Origin::DotEnv
                } else {
                    Origin::Environment
                },
            );
        }
        if is_ci(env) {
            return Err(TargetError::ImplicitLocalInCi);
        }
        Ok(Target::Local {
            dir: PathBuf::from(DEFAULT_LOCAL_DIR),
            origin: Origin::Default,
        })
    }

    /// The first line of every command, e.g. `target: local emulator (.foundryctl/local)`.
    pub fn describe(&self) -> String {
        match self {
            Target::Remote { url, .. } => format!("target: {}", url.as_str().trim_end_matches('/')),
            Target::Local { dir, .. } => format!("target: local emulator ({})", dir.display()),
        }
    }

    pub fn is_local(&self) -> bool {
        matches!(self, Target::Local { .. })
    }

    /// A warning about an endpoint that is valid but unlikely to be a project's: Foundry
    /// project endpoints end in `/api/projects/NAME`, and without that path every call answers
    /// 404, which reads as "nothing exists" rather than "wrong URL". Proxies and gateways may
    /// use other paths, so this is a warning, not an error.
    pub fn warning(&self) -> Option<String> {
        let Target::Remote { url, origin } = self else {
            return None;
        };
        let path = url.path();
        let project = path
            .rsplit_once("/api/projects/")
            .is_some_and(|(_, name)| !name.is_empty() && !name.contains('/'));
        (!project).then(|| {
            format!(
                "warning: the endpoint from {} has no /api/projects/PROJECT path ({path:?}); \
                 a Foundry project endpoint looks like \
                 https://ACCOUNT.services.ai.azure.com/api/projects/PROJECT",
                origin.describe()
            )
        })
    }
}

/// Whether this runs in a pipeline: `CI` (GitHub Actions, GitLab and most others set
/// `CI=true`) or `TF_BUILD` (Azure Pipelines sets `TF_BUILD=True`, and not always `CI`) set to
/// anything but empty, `false` or `0`.
pub fn is_ci(env: &Env) -> bool {
    ["CI", "TF_BUILD"].into_iter().any(|name| {
        env.get(name)
            .is_some_and(|v| !matches!(v.trim().to_ascii_lowercase().as_str(), "" | "false" | "0"))
    })
}

fn parse(value: &str, origin: Origin) -> Result<Target, TargetError> {
    let value = value.trim();
    if value == "local" {
        return Ok(Target::Local {
            dir: PathBuf::from(DEFAULT_LOCAL_DIR),
            origin,
        });
    }
    if let Some(dir) = value.strip_prefix("local:") {
        if dir.is_empty() {
            return Err(invalid(
                value,
                origin,
                "local: needs a directory after the colon",
            ));
        }
        return Ok(Target::Local {
            dir: PathBuf::from(dir),
            origin,
        });
    }
    let mut url = Url::parse(value).map_err(|e| invalid(value, origin, &e.to_string()))?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => {
            return Err(invalid(
                value,
                origin,
                "plain http is allowed only for loopback addresses, because the bearer token would travel in clear text",
            ));
        }
        other => {
            return Err(invalid(
                value,
                origin,
                &format!("unsupported scheme {other:?}"),
            ));
        }
    }
    if !url.username().is_empty() || url.password().is_some() {
        // The credentials would be echoed on every command's first line and written into saved
        // plans; they are also never how Foundry authenticates. Quote the URL without them (clearing
        // them cannot fail: a URL with a user name has a host).
        let _ = url.set_username("");
        let _ = url.set_password(None);
        return Err(invalid(
            url.as_str(),
            origin,
            "the endpoint takes no user name or password (authentication is chosen with --auth)",
        ));
    }
    if url.host_str().is_none_or(str::is_empty) || url.cannot_be_a_base() {
        return Err(invalid(value, origin, "no host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        // Quoted without them: a query may carry a signature or a key (`?sig=…`), which the
        // message would otherwise echo into a pipeline's log.
        url.set_query(None);
        url.set_fragment(None);
        return Err(invalid(
            url.as_str(),
            origin,
            "the endpoint takes no query or fragment (foundryctl adds api-version itself)",
        ));
    }
    let trimmed = url.path().trim_end_matches('/').to_owned();
    url.set_path(&trimmed);
    Ok(Target::Remote { url, origin })
}

fn invalid(value: &str, origin: Origin, reason: &str) -> TargetError {
    TargetError::Invalid {
        value: value.to_owned(),
        origin,
        reason: reason.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flag_wins_over_the_environment() {
        let env = Env::from_pairs([(
            ENDPOINT_VAR,
            "https://a.services.ai.azure.com/api/projects/p",
        )]);
        let t = Target::resolve(Some("local:/tmp/x"), &env).unwrap();
        assert_eq!(
            t,
            Target::Local {
                dir: "/tmp/x".into(),
                origin: Origin::Flag
            }
        );
        assert_eq!(t.describe(), "target: local emulator (/tmp/x)");
    }

    #[test]
    fn project_endpoint_names_a_remote_project() {
        let env = Env::from_pairs([(
            ENDPOINT_VAR,
            "https://acct.services.ai.azure.com/api/projects/p/",
        )]);
        let t = Target::resolve(None, &env).unwrap();
        assert_eq!(
            t.describe(),
            "target: https://acct.services.ai.azure.com/api/projects/p"
        );
        assert!(matches!(
            t,
            Target::Remote {
                origin: Origin::Environment,
                ..
            }
        ));
    }

    #[test]
    fn nothing_configured_means_the_local_emulator() {
        let t = Target::resolve(None, &Env::default()).unwrap();
        assert_eq!(t.describe(), "target: local emulator (.foundryctl/local)");
        assert!(t.is_local());
    }

    #[test]
    fn ci_refuses_the_implicit_local_default_but_not_an_explicit_one() {
        let ci = Env::from_pairs([("CI", "true")]);
        let error = Target::resolve(None, &ci).unwrap_err();
        let e = error.to_string();
        assert!(e.contains("not used implicitly in a pipeline"), "{e}");
        assert!(!e.contains("hint"), "{e}");
        assert!(error.hint().unwrap().starts_with("pass --endpoint"), "{e}");
        assert!(Target::resolve(Some("local"), &ci).is_ok());
        assert!(Target::resolve(None, &Env::from_pairs([("CI", "false")])).is_ok());
        assert!(Target::resolve(None, &Env::from_pairs([("CI", "")])).is_ok());
        // Azure Pipelines: TF_BUILD, without CI.
        let azure = Env::from_pairs([("TF_BUILD", "True")]);
        assert!(Target::resolve(None, &azure).is_err());
    }

    #[test]
    fn bad_endpoints_are_refused_with_a_reason() {
        for (value, reason) in [
            (
                "http://acct.services.ai.azure.com/api/projects/p",
                "plain http",
            ),
            ("ftp://x/y", "unsupported scheme"),
            ("acct.services.ai.azure.com", "relative URL"),
            ("https://a/api/projects/p?api-version=v1", "no query"),
            ("https://a/api/projects/p?sig=hunter2", "no query"),
            ("https://a/api/projects/p#hunter2", "no query or fragment"),
            ("local:", "needs a directory"),
            (
                "https://user:hunter2@a.services.ai.azure.com/api/projects/p",
                "no user name or password",
            ),
        ] {
            let e = Target::resolve(Some(value), &Env::default())
                .unwrap_err()
                .to_string();
            assert!(e.contains(reason), "{value}: {e}");
            assert!(!e.contains("hunter2"), "the error repeats a password: {e}");
        }
        assert!(
            Target::resolve(
                Some("http://127.0.0.1:8080/api/projects/local"),
                &Env::default()
            )
            .is_ok()
        );
    }

    #[test]
    fn an_endpoint_without_a_project_path_is_warned_about() {
        let warning = |value: &str| {
            Target::resolve(Some(value), &Env::default())
                .unwrap()
                .warning()
        };
        assert_eq!(
            warning("https://a.services.ai.azure.com/api/projects/p"),
            None
        );
        assert_eq!(warning("http://127.0.0.1:8080/api/projects/local/"), None);
        assert_eq!(warning("local:/tmp/x"), None);
        let w = warning("https://a.services.ai.azure.com").unwrap();
        assert!(
            w.starts_with(
                "warning: the endpoint from --endpoint has no /api/projects/PROJECT path"
            ),
            "{w}"
        );
        assert!(warning("https://a.services.ai.azure.com/api/projects/").is_some());
    }

    #[test]
    fn the_environment_wins_over_dotenv_and_the_origin_is_reported() {
        let from_file = || {
            [(
                ENDPOINT_VAR.to_owned(),
                "https://from-file.services.ai.azure.com/api/projects/p".to_owned(),
            )]
        };
        let t = Target::resolve(None, &Env::merge([], from_file())).unwrap();
        assert_eq!(
            t.describe(),
            "target: https://from-file.services.ai.azure.com/api/projects/p"
        );
        assert!(matches!(
            t,
            Target::Remote {
                origin: Origin::DotEnv,
                ..
            }
        ));
        let process = [(
            ENDPOINT_VAR.to_owned(),
            "https://from-env.services.ai.azure.com/api/projects/p".to_owned(),
        )];
        let t = Target::resolve(None, &Env::merge(process, from_file())).unwrap();
        assert_eq!(
            t.describe(),
            "target: https://from-env.services.ai.azure.com/api/projects/p"
        );
        assert!(matches!(
            t,
            Target::Remote {
                origin: Origin::Environment,
                ..
            }
        ));
    }
}
