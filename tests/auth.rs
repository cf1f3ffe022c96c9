//! Authentication end to end: the binary gets real tokens from the emulator's loopback token
//! endpoints (Entra-shaped, GitHub-Actions-shaped OIDC) over https, and the emulator, started
//! with `require_issued_token`, accepts nothing else. The Azure CLI and azd are scripts on
//! `PATH` that answer as those tools do.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use foundry_emulator::{Config, Emulator, FaultConfig, TlsConfig, TokenEndpoints};
use predicates::str::contains;

/// The seed scenario: one store and one agent, so an apply makes several requests.
fn manifest() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("manifests/seed/seed.yaml")
}

/// An https emulator that requires its own tokens, and a directory to run in.
struct Issuing {
    emulator: Emulator,
    endpoints: TokenEndpoints,
    cert: PathBuf,
    dir: tempfile::TempDir,
    rt: tokio::runtime::Runtime,
}

impl Issuing {
    fn start(lifetime: Duration, faults: FaultConfig) -> Issuing {
        let dir = tempfile::tempdir().unwrap();
        let rt = common::live::runtime();
        let emulator = rt
            .block_on(Emulator::start(Config {
                require_token: true,
                require_issued_token: true,
                token_lifetime: lifetime,
                faults,
                tls: Some(TlsConfig {
                    dir: dir.path().join("tls"),
                }),
                ..Config::default()
            }))
            .unwrap();
        let endpoints = emulator.token_endpoints().unwrap();
        let cert = emulator.certificate_path().unwrap().to_owned();
        Issuing {
            emulator,
            endpoints,
            cert,
            dir,
            rt,
        }
    }

    /// `foundryctl --endpoint <https emulator> --auth MODE`, trusting the emulator's
    /// certificate and asking its authority host, with no credential variable inherited.
    fn cmd(&self, mode: &str) -> assert_cmd::Command {
        let mut cmd = common::foundryctl(self.dir.path());
        for var in [
            "AZURE_CLIENT_ID",
            "AZURE_TENANT_ID",
            "AZURE_CLIENT_SECRET",
            "AZURE_FEDERATED_TOKEN_FILE",
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
            "FOUNDRY_TOKEN",
            "IDENTITY_ENDPOINT",
            "MSI_ENDPOINT",
        ] {
            cmd.env_remove(var);
        }
        cmd.env("SSL_CERT_FILE", &self.cert)
            .env("AZURE_AUTHORITY_HOST", &self.endpoints.authority_host)
            // No az or azd from the machine: `auto` must not find a real login.
            .env("PATH", self.fake_bin())
            .args(["--endpoint", &self.emulator.endpoint(), "--auth", mode]);
        cmd
    }

    fn fake_bin(&self) -> String {
        let bin = self.dir.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        format!("{}:/usr/bin:/bin", bin.display())
    }

    /// Token requests the Entra-shaped endpoint answered.
    fn token_requests(&self) -> u64 {
        self.emulator
            .stats()
            .by_route
            .get("POST /{tenant}/oauth2/v2.0/token")
            .copied()
            .unwrap_or(0)
    }

    fn id_token(&self) -> String {
        let pem = std::fs::read(&self.cert).unwrap();
        let http = reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
            .build()
            .unwrap();
        let body: serde_json::Value = self
            .rt
            .block_on(async {
                http.get(&self.endpoints.oidc_request_url)
                    .query(&[("audience", "api://AzureADTokenExchange")])
                    .bearer_auth(&self.endpoints.oidc_request_token)
                    .send()
                    .await?
                    .json()
                    .await
            })
            .unwrap();
        body["value"].as_str().unwrap().to_owned()
    }

    /// A script named `name` on the fake `PATH` that logs its arguments to `name.log` and runs
    /// `body`.
    fn fake_tool(&self, name: &str, body: &str) -> PathBuf {
        let bin = self.dir.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        let log = self.dir.path().join(format!("{name}.log"));
        let script = bin.join(name);
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\nprintf '%s\\n' \"$*\" >> '{}'\n{body}\n",
                log.display()
            ),
        )
        .unwrap();
        make_executable(&script);
        log
    }
}

fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn client_secret_runs_end_to_end_and_a_wrong_secret_is_explained() {
    let e = Issuing::start(Duration::from_secs(3600), FaultConfig::default());
    let manifest = manifest();
    e.cmd("client-secret")
        .env("AZURE_TENANT_ID", "contoso.onmicrosoft.com")
        .env("AZURE_CLIENT_ID", "app")
        .env("AZURE_CLIENT_SECRET", &e.endpoints.client_secret)
        .args(["apply", "--auto-approve", "-f"])
        .arg(&manifest)
        .assert()
        .code(0);
    assert_eq!(e.token_requests(), 1, "one token serves the whole run");
    e.cmd("client-secret")
        .env("AZURE_TENANT_ID", "contoso.onmicrosoft.com")
        .env("AZURE_CLIENT_ID", "app")
        .env("AZURE_CLIENT_SECRET", "not-the-secret")
        .args(["plan", "-f"])
        .arg(&manifest)
        .assert()
        .code(1)
        .stderr(contains("client secret: failed"))
        .stderr(contains("AADSTS7000215"));
}

#[test]
fn short_lived_tokens_are_refreshed_as_they_expire() {
    // Every request waits 400 ms and a token lives about a second: an apply outlives several.
    let faults = FaultConfig {
        latency: Duration::from_millis(400),
        ..FaultConfig::default()
    };
    let e = Issuing::start(Duration::from_secs(1), faults);
    e.cmd("client-secret")
        .env("AZURE_TENANT_ID", "contoso.onmicrosoft.com")
        .env("AZURE_CLIENT_ID", "app")
        .env("AZURE_CLIENT_SECRET", &e.endpoints.client_secret)
        .args(["apply", "--auto-approve", "--parallelism", "1", "-f"])
        .arg(manifest())
        .assert()
        .code(0);
    assert!(
        e.token_requests() >= 3,
        "only {} token requests for a run longer than a token's life",
        e.token_requests()
    );
}

#[test]
fn workload_identity_exchanges_the_federated_token_file() {
    let e = Issuing::start(Duration::from_secs(3600), FaultConfig::default());
    let file = e.dir.path().join("azure-identity-token");
    std::fs::write(&file, e.id_token()).unwrap();
    e.cmd("workload-identity")
        .env("AZURE_TENANT_ID", "contoso.onmicrosoft.com")
        .env("AZURE_CLIENT_ID", "app")
        .env("AZURE_FEDERATED_TOKEN_FILE", &file)
        .args(["plan", "-f"])
        .arg(manifest())
        .assert()
        .code(0)
        .stdout(contains("memory_store/dev-prefs-memory"));
    // A token file that is not the issuer's: refused by the token endpoint.
    std::fs::write(&file, "eyJhbGciOiJIUzI1NiJ9.e30.c2ln").unwrap();
    e.cmd("workload-identity")
        .env("AZURE_TENANT_ID", "contoso.onmicrosoft.com")
        .env("AZURE_CLIENT_ID", "app")
        .env("AZURE_FEDERATED_TOKEN_FILE", &file)
        .args(["plan", "-f"])
        .arg(manifest())
        .assert()
        .code(1)
        .stderr(contains("workload identity: failed"));
}

#[test]
fn github_oidc_exchanges_the_actions_id_token_also_under_auto() {
    let e = Issuing::start(Duration::from_secs(3600), FaultConfig::default());
    for mode in ["github-oidc", "auto"] {
        e.cmd(mode)
            .env("AZURE_TENANT_ID", "contoso.onmicrosoft.com")
            .env("AZURE_CLIENT_ID", "app")
            .env(
                "ACTIONS_ID_TOKEN_REQUEST_URL",
                &e.endpoints.oidc_request_url,
            )
            .env(
                "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
                &e.endpoints.oidc_request_token,
            )
            .args(["plan", "--detailed-exitcode", "-f"])
            .arg(manifest())
            .assert()
            .code(2);
    }
    assert_eq!(e.emulator.stats().by_route.get("GET /oidc/token"), Some(&2));
    e.cmd("github-oidc")
        .env("AZURE_TENANT_ID", "contoso.onmicrosoft.com")
        .env("AZURE_CLIENT_ID", "app")
        .env(
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            &e.endpoints.oidc_request_url,
        )
        .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "not-the-runner-token")
        .args(["plan", "-f"])
        .arg(manifest())
        .assert()
        .code(1)
        .stderr(contains("GitHub OIDC token request failed"));
}

#[test]
fn the_project_refuses_a_token_it_did_not_issue() {
    let e = Issuing::start(Duration::from_secs(3600), FaultConfig::default());
    e.cmd("token")
        .env("FOUNDRY_TOKEN", "local")
        .args(["plan", "-f"])
        .arg(manifest())
        .assert()
        .code(1)
        .stderr(contains("401"));
}

#[test]
fn the_azure_cli_is_asked_as_az_is_and_auto_falls_back_to_it() {
    let e = Issuing::start(Duration::from_secs(3600), FaultConfig::default());
    let token = e
        .emulator
        .issue_access_token("https://ai.azure.com")
        .unwrap();
    let az_log = e.fake_tool(
        "az",
        &format!(
            "case \"$*\" in\n  'account get-access-token -o json --scope https://ai.azure.com/.default'*)\n    \
             printf '{{\"accessToken\": \"%s\", \"expiresOn\": \"2099-01-01 00:00:00.000000\", \"expires_on\": 4070908800, \"subscription\": \"s\", \"tenant\": \"t\", \"tokenType\": \"Bearer\"}}\\n' '{token}'\n    ;;\n  \
             *) echo \"ERROR: unexpected arguments: $*\" >&2; exit 2 ;;\nesac"
        ),
    );
    for mode in ["cli", "auto"] {
        e.cmd(mode)
            .args(["plan", "-f"])
            .arg(manifest())
            .assert()
            .code(0);
    }
    let calls = std::fs::read_to_string(&az_log).unwrap();
    assert_eq!(
        calls.lines().collect::<Vec<_>>(),
        [
            "account get-access-token -o json --scope https://ai.azure.com/.default",
            "account get-access-token -o json --scope https://ai.azure.com/.default",
        ]
    );
    // Logged out: az's own message reaches the user.
    e.fake_tool(
        "az",
        "echo \"ERROR: Please run 'az login' to setup account.\" >&2; exit 1",
    );
    e.cmd("cli")
        .args(["plan", "-f"])
        .arg(manifest())
        .assert()
        .code(1)
        .stderr(contains("az login"));
}

#[test]
fn azd_is_asked_as_azd_is() {
    let e = Issuing::start(Duration::from_secs(3600), FaultConfig::default());
    let token = e
        .emulator
        .issue_access_token("https://ai.azure.com")
        .unwrap();
    let log = e.fake_tool(
        "azd",
        &format!(
            "case \"$*\" in\n  'auth token -o json --no-prompt --scope https://ai.azure.com/.default'*)\n    \
             printf '{{\"token\": \"%s\", \"expiresOn\": \"2099-01-01T00:00:00Z\"}}\\n' '{token}'\n    ;;\n  \
             *) echo \"unexpected arguments: $*\" >&2; exit 2 ;;\nesac"
        ),
    );
    e.cmd("azd")
        .args(["plan", "-f"])
        .arg(manifest())
        .assert()
        .code(0);
    let calls = std::fs::read_to_string(&log).unwrap();
    assert_eq!(
        calls.trim(),
        "auth token -o json --no-prompt --scope https://ai.azure.com/.default"
    );
}

/// `foundryctl emulator --tls --require-token`, as docs/authentication.md tells a user to try
/// the flows: the variables it prints are enough for `--auth client-secret`, and a token it did
/// not issue is refused.
#[test]
fn the_served_emulator_prints_what_the_credential_flows_need() {
    use std::io::{BufRead as _, BufReader};
    use std::process::{Command, Stdio};

    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_foundryctl"))
        .args([
            "emulator",
            "--port",
            "0",
            "--tls",
            "--require-token",
            "--data",
        ])
        .arg(dir.path())
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        let mut endpoint = String::new();
        let _ = BufReader::new(stdout).read_line(&mut endpoint);
        let mut notes = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let done = line.contains("press Ctrl-C");
            notes.push_str(&line);
            notes.push('\n');
            if done {
                break;
            }
        }
        let _ = tx.send((endpoint.trim().to_owned(), notes));
    });
    let received = rx.recv_timeout(Duration::from_secs(30));
    let (endpoint, notes) = match received {
        Ok(r) => r,
        Err(_) => {
            let _ = child.kill();
            panic!("foundryctl emulator printed no notes within 30 s");
        }
    };
    assert!(endpoint.starts_with("https://127.0.0.1:"), "{endpoint}");
    assert!(!notes.contains("any bearer token is accepted"), "{notes}");
    let cert = notes
        .lines()
        .find_map(|l| l.strip_prefix("emulator: TLS certificate "))
        .and_then(|l| l.split(" (").next())
        .expect("the certificate is named")
        .to_owned();
    let vars: Vec<(String, String)> = notes
        .lines()
        .find_map(|l| l.split_once("(test tokens, loopback only): "))
        .expect("the token endpoints are named")
        .1
        .split(' ')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let run = |mode: &str, extra: &[(&str, &str)]| {
        let mut cmd = common::foundryctl(dir.path());
        cmd.env_remove("FOUNDRY_TOKEN")
            .env("SSL_CERT_FILE", &cert)
            .envs(vars.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .envs(extra.iter().copied())
            .args(["--endpoint", &endpoint, "--auth", mode, "get"]);
        cmd.assert()
    };
    run("client-secret", &[]).code(0);
    run("github-oidc", &[]).code(0);
    run("token", &[("FOUNDRY_TOKEN", "local")])
        .code(1)
        .stderr(contains("401"));
    let _ = child.kill();
    let _ = child.wait();
}
