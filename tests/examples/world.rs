//! What the example pipelines run against: the project (an https emulator that accepts only
//! tokens it issued, as Foundry accepts only Entra's), the repository they check out, the
//! artifacts store, and fake `gh` and `az` on `PATH`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use foundry_emulator::{Config, Emulator, Storage, TlsConfig, TokenEndpoints};
use foundryctl::foundry::{ApiVersion, Auth, Client, TransportConfig};
use foundryctl::model::{MemoryStoreName, MemoryStoreSpec};
use reqwest::Url;
use serde_json::Value;

pub struct World {
    pub dir: tempfile::TempDir,
    rt: tokio::runtime::Runtime,
    /// The project the pipelines talk to: https, `require_issued_token`.
    pub emulator: Emulator,
    pub endpoints: TokenEndpoints,
    pub cert: PathBuf,
    /// The same project (one SQLite file) over plain http without tokens, for edits made
    /// behind foundryctl's back through `client`; kept here so it keeps serving.
    _side: Emulator,
    client: Client,
    runs: std::cell::Cell<u32>,
}

impl World {
    pub fn start() -> World {
        let dir = tempfile::tempdir().unwrap();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let db = Storage::File(dir.path().join("project/emulator.db"));
        let emulator = rt
            .block_on(Emulator::start(Config {
                storage: db.clone(),
                require_token: true,
                require_issued_token: true,
                tls: Some(TlsConfig {
                    dir: dir.path().join("tls"),
                }),
                // The seed's models, and the embedding model a test replaces the store with.
                deployments: foundry_emulator::default_deployments()
                    .into_iter()
                    .chain([foundry_emulator::Deployment {
                        name: "text-embedding-3-small".to_owned(),
                        model: "text-embedding-3-small".to_owned(),
                    }])
                    .collect(),
                ..Config::default()
            }))
            .unwrap();
        let side = rt
            .block_on(Emulator::start(Config {
                storage: db,
                ..Config::default()
            }))
            .unwrap();
        let client = Client::new(
            Url::parse(&side.endpoint()).unwrap(),
            ApiVersion::V1,
            Auth::None,
            TransportConfig::default(),
        )
        .unwrap();
        let endpoints = emulator.token_endpoints().unwrap();
        let cert = emulator.certificate_path().unwrap().to_owned();
        let world = World {
            dir,
            rt,
            emulator,
            endpoints,
            cert,
            _side: side,
            client,
            runs: std::cell::Cell::new(0),
        };
        let bin = world.bin();
        std::fs::create_dir_all(&bin).unwrap();
        for (name, text) in [
            ("gh", include_str!("fake-gh.sh")),
            ("az", include_str!("fake-az.sh")),
        ] {
            let path = bin.join(name);
            std::fs::write(&path, text).unwrap();
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        std::fs::create_dir_all(world.gh_state()).unwrap();
        world
    }

    /// The repository the pipelines check out.
    pub fn source(&self) -> PathBuf {
        self.dir.path().join("source")
    }

    /// Replaces the repository's manifests with `text` in `manifests/foundry.yaml`.
    pub fn write_manifests(&self, text: &str) {
        let dir = self.source().join("manifests");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("foundry.yaml"), text).unwrap();
    }

    pub fn bin(&self) -> PathBuf {
        self.dir.path().join("bin")
    }

    pub fn gh_state(&self) -> PathBuf {
        self.dir.path().join("gh")
    }

    /// A fresh directory for one pipeline run.
    pub fn run_dir(&self) -> PathBuf {
        let n = self.runs.get() + 1;
        self.runs.set(n);
        let dir = self.dir.path().join(format!("run-{n}"));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// The `gh` calls since the last time this was asked, one per line, arguments joined by
    /// spaces.
    pub fn take_gh_calls(&self) -> Vec<String> {
        let log = self.gh_state().join("calls.log");
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let _ = std::fs::remove_file(&log);
        text.lines().map(|l| l.replace('\t', " ")).collect()
    }

    /// The pull-request comments `gh` holds, by id.
    pub fn comments(&self) -> BTreeMap<String, String> {
        files(&self.gh_state().join("comments"))
    }

    /// The issues `gh` holds: number → (state, label, body).
    pub fn issues(&self) -> BTreeMap<String, (String, String, String)> {
        let mut issues = BTreeMap::new();
        let Ok(entries) = std::fs::read_dir(self.gh_state().join("issues")) else {
            return issues;
        };
        for entry in entries {
            let dir = entry.unwrap().path();
            let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap_or_default();
            issues.insert(
                dir.file_name().unwrap().to_string_lossy().into_owned(),
                (read("state").trim().to_owned(), read("label"), read("body")),
            );
        }
        issues
    }

    /// Edits a store's description directly, keeping its stamps: drift.
    pub fn edit_store_behind_foundryctls_back(&self, name: &str, description: &str) {
        let name = MemoryStoreName::new(name).unwrap();
        let store = self
            .rt
            .block_on(self.client.get_store(&name))
            .unwrap()
            .expect("the store exists");
        self.rt
            .block_on(
                self.client
                    .update_store(&name, description, &store.metadata),
            )
            .unwrap();
    }

    /// Creates a store nobody stamped, as someone in the portal would.
    pub fn create_unmanaged_store(&self, name: &str) {
        let spec = MemoryStoreSpec {
            chat_model: "gpt-4.1-mini".into(),
            embedding_model: "text-embedding-3-large".into(),
            ..MemoryStoreSpec::default()
        };
        self.rt
            .block_on(self.client.create_store(
                &MemoryStoreName::new(name).unwrap(),
                &spec,
                &BTreeMap::new(),
            ))
            .unwrap();
    }

    pub fn store_names(&self) -> Vec<String> {
        self.rt
            .block_on(self.client.list_stores())
            .unwrap()
            .into_iter()
            .map(|s| s.name.to_string())
            .collect()
    }

    /// An access token for the project, as a signed-in `az` hands out.
    pub fn az_token(&self) -> String {
        self.emulator
            .issue_access_token("https://ai.azure.com")
            .unwrap()
    }
}

/// The directory of the binary built from this tree, which stands in for the install step.
pub fn foundryctl_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_foundryctl"))
        .parent()
        .unwrap()
        .to_owned()
}

/// `PATH` for a step: the fakes, then the system's (which must not hold foundryctl: only the
/// install step may put it there).
pub fn system_path(world: &World) -> String {
    format!("{}:/usr/local/bin:/usr/bin:/bin", world.bin().display())
}

/// Every file directly in `dir`, by name.
pub fn files(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_file() {
                out.insert(
                    path.file_name().unwrap().to_string_lossy().into_owned(),
                    std::fs::read_to_string(&path).unwrap_or_default(),
                );
            }
        }
    }
    out
}

/// A pipeline file of this repository, parsed as YAML 1.2 (so `on:` stays a key).
pub fn load(relative: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    let text = std::fs::read_to_string(&path).unwrap();
    let mut options = serde_saphyr::Options::default();
    options.strict_booleans = true;
    serde_saphyr::from_str_with_options(&text, options)
        .unwrap_or_else(|e| panic!("{relative} is not valid YAML: {e}"))
}

/// Runs `script` with bash in `cwd` with exactly `env`; (exit code, stdout, stderr).
pub fn bash(
    args: &[&str],
    script: &str,
    cwd: &Path,
    env: &BTreeMap<String, String>,
) -> (i32, String, String) {
    let file = tempfile::Builder::new()
        .suffix(".sh")
        .tempfile_in(cwd.parent().unwrap())
        .unwrap();
    std::fs::write(file.path(), script).unwrap();
    let out = std::process::Command::new("bash")
        .args(args)
        .arg(file.path())
        .current_dir(cwd)
        .env_clear()
        .envs(env)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The seed scenario as the repository's manifests: one store, one agent.
pub fn seed_manifests() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("manifests/seed/seed.yaml"))
        .unwrap()
        .replace("${CHAT_MODEL:-gpt-4.1-mini}", "gpt-4.1-mini")
        .replace(
            "${EMBEDDING_MODEL:-text-embedding-3-large}",
            "text-embedding-3-large",
        )
}
