//! Shared helpers for the end-to-end CLI tests: run the real binary against an isolated
//! project (the embedded emulator under a temporary directory), never against whatever the
//! developer's environment points at, and never waiting for input.

#![allow(
    dead_code,
    reason = "each test binary uses a different subset of these helpers"
)]

pub mod live;
pub mod readme;

use std::path::{Path, PathBuf};
use std::time::Duration;

/// A temporary working directory with its own local project.
pub struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    pub fn new() -> Project {
        Project {
            dir: tempfile::tempdir().expect("create a temporary directory"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `--endpoint` value of this project's embedded emulator.
    pub fn endpoint(&self) -> String {
        format!("local:{}", self.dir.path().join("project").display())
    }

    /// Writes `text` to `name` under the working directory (creating parents) and returns the
    /// path.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create parent directories");
        }
        std::fs::write(&path, text).expect("write a test file");
        path
    }

    /// `foundryctl ARGS --endpoint local:DIR`, run in the project directory.
    pub fn cmd(&self) -> assert_cmd::Command {
        let mut cmd = foundryctl(self.dir.path());
        cmd.arg("--endpoint").arg(self.endpoint());
        cmd
    }
}

/// The binary with an environment that cannot leak a real target in: no PROJECT_ENDPOINT, no
/// CI, no colour, stdin closed, and a timeout so a prompt that should not be there fails the
/// test instead of hanging it.
pub fn foundryctl(cwd: &Path) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::from_std(foundryctl_std(cwd));
    cmd.write_stdin("").timeout(Duration::from_secs(120));
    cmd
}

/// [`foundryctl`]'s environment on a plain `std::process::Command`, for a test that sets the
/// standard streams itself (a pipe nobody reads, a full disk); stdin is closed.
pub fn foundryctl_std(cwd: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_foundryctl"));
    cmd.current_dir(cwd)
        .env_remove("PROJECT_ENDPOINT")
        .env_remove("CI")
        .env_remove("TF_BUILD")
        .env_remove("CHAT_MODEL")
        .env_remove("EMBEDDING_MODEL")
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null());
    cmd
}

/// Copies a directory tree (the repository's manifests or examples, into the directory a test
/// runs in).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Edits action `id` of the saved plan at `path` in place, as anyone who can write the file
/// could.
pub fn edit_saved_action(path: &Path, id: &str, edit: impl FnOnce(&mut serde_json::Value)) {
    let mut saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let action = saved["plan"]["actions"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|a| a["id"] == id)
        .unwrap_or_else(|| panic!("no action {id} in the saved plan"));
    edit(action);
    std::fs::write(path, serde_json::to_string(&saved).unwrap()).unwrap();
}
