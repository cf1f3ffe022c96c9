//! An in-process emulator that the binary reaches over loopback HTTP and the test reaches
//! with the client: so a test can inject faults and latency, or change the project behind
//! foundryctl's back.

use std::collections::BTreeSet;

use foundry_emulator::{Config, Emulator, FaultConfig};
use foundryctl::foundry::{ApiVersion, Auth, Client, TransportConfig};
use foundryctl::model::AgentName;
use reqwest::Url;

use super::{Project, foundryctl};

/// An in-process emulator the test can reach with the client while the binary talks to it.
pub struct Live {
    pub project: Project,
    pub client: Client,
    pub emulator: Emulator,
    rt: tokio::runtime::Runtime,
}

/// The emulator's default deployments and the short model names the tests' manifests use, so
/// the deployments preflight of `plan` finds every one of them.
fn test_deployments() -> Vec<foundry_emulator::Deployment> {
    let mut all = foundry_emulator::default_deployments();
    for name in ["gpt-4.1", "gpt-4o", "m", "e"] {
        all.push(foundry_emulator::Deployment {
            name: name.to_owned(),
            model: name.to_owned(),
        });
    }
    all
}

/// The runtime an in-process emulator serves on while the test drives the binary: two
/// workers, so the emulator answers while a test thread blocks on a child process.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

impl Live {
    pub fn start(faults: FaultConfig) -> Live {
        let rt = runtime();
        let emulator = rt
            .block_on(Emulator::start(Config {
                faults,
                deployments: test_deployments(),
                ..Config::default()
            }))
            .unwrap();
        let client = Client::new(
            Url::parse(&emulator.endpoint()).unwrap(),
            ApiVersion::V1,
            Auth::None,
            TransportConfig::default(),
        )
        .unwrap();
        Live {
            project: Project::new(),
            client,
            emulator,
            rt,
        }
    }

    pub fn cmd(&self) -> assert_cmd::Command {
        let mut cmd = foundryctl(self.project.path());
        cmd.args(["--endpoint", &self.emulator.endpoint(), "--auth", "token"])
            .env("FOUNDRY_TOKEN", "test-token");
        cmd
    }

    /// `foundryctl ARGS` against this emulator as a running process the test can race (stdin
    /// closed, stdout and stderr piped), in [`super::foundryctl`]'s isolated environment.
    pub fn spawn(&self, args: &[&str]) -> std::process::Child {
        std::process::Command::new(env!("CARGO_BIN_EXE_foundryctl"))
            .current_dir(self.project.path())
            .args(["--endpoint", &self.emulator.endpoint(), "--auth", "token"])
            .args(args)
            .env("FOUNDRY_TOKEN", "t")
            .env("NO_COLOR", "1")
            .env_remove("PROJECT_ENDPOINT")
            .env_remove("CI")
            .env_remove("TF_BUILD")
            .env_remove("RUST_LOG")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("foundryctl starts")
    }

    pub fn write(&self, text: &str) -> String {
        self.project
            .write("manifests/set.yaml", text)
            .display()
            .to_string()
    }

    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    pub fn versions(&self, agent: &str) -> Vec<String> {
        let name = AgentName::new(agent).unwrap();
        self.block_on(self.client.list_agent_versions(&name))
            .unwrap()
            .into_iter()
            .map(|v| v.version)
            .collect()
    }

    pub fn store_names(&self) -> BTreeSet<String> {
        self.block_on(self.client.list_stores())
            .unwrap()
            .into_iter()
            .map(|s| s.name.to_string())
            .collect()
    }
}
