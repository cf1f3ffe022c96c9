//! The manifest layer from the outside: the bad-manifest corpus through the real binary
//! (exit 3, located messages, snapshot-tested), the examples against foundryctl and the JSON
//! Schema, the committed schema's freshness, and a brief fuzz run.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use foundryctl::manifest::{self, SourceFile, Variables};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs the binary from the repository root with a clean, colourless environment.
fn foundryctl(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_foundryctl"));
    cmd.args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .env_remove("CHAT_MODEL")
        .env_remove("EMBEDDING_MODEL")
        .env_remove("FOUNDRYCTL_TEST_UNSET_MODEL")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("foundryctl starts");
    if let Some(input) = stdin {
        use std::io::Write as _;
        let mut pipe = child.stdin.take().expect("stdin is piped");
        // The child may stop reading early (size limit); a broken pipe is then expected.
        let _ = pipe.write_all(input);
    }
    child.wait_with_output().expect("foundryctl finishes")
}

fn bad_manifests() -> Vec<PathBuf> {
    let dir = root().join("tests/fixtures/bad-manifests");
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("corpus exists")
        .map(|e| e.expect("readable entry").path())
        .collect();
    entries.sort();
    entries
}

#[test]
fn every_bad_manifest_is_refused_with_a_located_error_and_exit_3() {
    let corpus = bad_manifests();
    assert!(corpus.len() >= 30, "the corpus has {} inputs", corpus.len());
    for path in corpus {
        let relative = path
            .strip_prefix(root())
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        let started = Instant::now();
        let out = foundryctl(&["validate", "-f", &relative], None);
        let elapsed = started.elapsed();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(3), "{relative}:\n{stderr}");
        assert!(out.stdout.is_empty(), "{relative}: nothing on stdout");
        assert!(!stderr.contains("panicked"), "{relative}:\n{stderr}");
        assert!(
            stderr.contains(&format!("--> {relative}")),
            "{relative} is located:\n{stderr}"
        );
        // Bounded, not fast: an unbounded expansion never ends, while a busy machine (CI
        // beside other builds) can take several times the ~1.5 s the alias bomb needs in a
        // debug build.
        assert!(
            elapsed < Duration::from_secs(60),
            "{relative} took {elapsed:?}"
        );
        let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
        insta::assert_snapshot!(format!("bad_{name}"), stderr);
    }
}

#[test]
fn a_50_mb_file_is_refused_quickly_with_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.yaml");
    let line = "# padding padding padding padding padding padding padding padding padding\n";
    let mut text = String::with_capacity(50 * 1024 * 1024 + line.len());
    while text.len() < 50 * 1024 * 1024 {
        text.push_str(line);
    }
    std::fs::write(&path, &text).unwrap();
    let started = Instant::now();
    let out = foundryctl(&["validate", "-f", path.to_str().unwrap()], None);
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("is larger than 8 MiB (8388608 bytes), the limit for one manifest file"),
        "{stderr}"
    );

    // The same through stdin, which cannot be sized up front.
    let out = foundryctl(&["validate", "-f", "-"], Some(text.as_bytes()));
    assert_eq!(out.status.code(), Some(3));
}

#[test]
fn valid_manifests_print_a_summary_on_stdout_and_exit_0() {
    let out = foundryctl(&["validate", "-f", "manifests/seed"], None);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "2 resources in 1 file are valid\n"
    );
}

/// Issue 15: a FIFO named `*.yaml` in a `-f` directory made every command wait forever for a
/// writer. It is skipped and named; the run is bounded here by a deadline, not by the test
/// harness.
#[cfg(unix)]
#[test]
fn a_fifo_in_a_manifest_directory_is_skipped_and_named_instead_of_hanging() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        root().join("manifests/seed/seed.yaml"),
        dir.path().join("seed.yaml"),
    )
    .unwrap();
    let fifo = dir.path().join("pipe.yaml");
    let made = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    let mut child = Command::new(env!("CARGO_BIN_EXE_foundryctl"))
        .args(["validate", "-f"])
        .arg(dir.path())
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("validate still waits on the FIFO after 30 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("pipe.yaml") && stderr.contains("a FIFO, not a regular file"),
        "{stderr}"
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "2 resources in 1 file are valid\n"
    );
}

#[test]
fn a_directory_walk_reads_manifests_only_and_names_what_it_skipped_with_v() {
    let dir = tempfile::tempdir().unwrap();
    let seed = std::fs::read_to_string(root().join("manifests/seed/seed.yaml")).unwrap();
    std::fs::write(dir.path().join("seed.yaml"), &seed).unwrap();
    for hidden in [".github/workflows", ".foundryctl", ".git"] {
        std::fs::create_dir_all(dir.path().join(hidden)).unwrap();
        // Would be a duplicate declaration if it were read.
        std::fs::write(dir.path().join(hidden).join("copy.yaml"), &seed).unwrap();
    }
    std::fs::write(dir.path().join("compose.yaml"), "services: {}\n").unwrap();
    let dir_arg = dir.path().to_str().unwrap();

    let out = foundryctl(&["validate", "-f", dir_arg], None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("compose.yaml"), "{stderr}");

    let out = foundryctl(&["validate", "-v", "-f", dir_arg], None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("compose.yaml"), "{stderr}");
    assert!(!stderr.contains("copy.yaml"), "{stderr}");

    // Named explicitly, the same file is read and checked.
    let compose = dir.path().join("compose.yaml");
    let out = foundryctl(&["validate", "-f", compose.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(3));
}

#[test]
fn stdin_is_read_with_dash() {
    let text = std::fs::read(root().join("manifests/seed/seed.yaml")).unwrap();
    let out = foundryctl(&["validate", "-f", "-"], Some(&text));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn json_output_lists_every_diagnostic_on_stdout() {
    let out = foundryctl(
        &[
            "validate",
            "-f",
            "tests/fixtures/bad-manifests/duplicate-across-files",
            "--output",
            "json",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(3));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    insta::assert_json_snapshot!("json_report_duplicate_across_files", report);
}

#[test]
fn json_output_is_a_report_even_when_an_input_cannot_be_read() {
    let out = foundryctl(
        &[
            "validate",
            "-f",
            "tests/fixtures/no-such-file.yaml",
            "-o",
            "json",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {:?}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    assert_eq!(report["valid"], false);
    assert_eq!(
        report["diagnostics"][0]["file"],
        "tests/fixtures/no-such-file.yaml"
    );
    let message = report["diagnostics"][0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("failed to read the manifests: "),
        "{message}"
    );
}

#[test]
fn the_committed_schema_is_current() {
    let committed = std::fs::read_to_string(root().join(manifest::SCHEMA_PATH)).unwrap();
    assert!(
        committed == manifest::schema_json(),
        "run `cargo run -- schema` and commit the result"
    );
}

fn examples() -> Vec<PathBuf> {
    let files = manifest::read_inputs(&[root().join("manifests")]).unwrap();
    files.into_iter().map(|f| PathBuf::from(f.name)).collect()
}

#[test]
fn every_example_validates_and_matches_the_json_schema() {
    let schema: serde_json::Value = serde_json::from_str(&manifest::schema_json()).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the schema is a valid JSON Schema");
    let vars = Variables::default();
    let examples = examples();
    assert!(examples.len() >= 2);
    for path in examples {
        let text = std::fs::read_to_string(&path).unwrap();
        let name = path.display().to_string();
        let first = text.lines().next().unwrap_or_default();
        let depth = path.strip_prefix(root()).unwrap().components().count() - 1;
        let expected = format!(
            "# yaml-language-server: $schema={}schemas/manifest.schema.json",
            "../".repeat(depth)
        );
        assert_eq!(first, expected, "{name} carries the modeline");
        // Each example is read with the files of its directory, as `-f DIR` reads it: a seed
        // names a store that another file of the directory declares.
        let dir = path.parent().unwrap();
        let together: Vec<SourceFile> = manifest::read_inputs(&[dir.to_path_buf()])
            .unwrap()
            .into_iter()
            .filter(|f| Path::new(&f.name).parent() == Some(dir))
            .collect();
        assert!(together.iter().any(|f| f.name == name), "{name} is read");
        if let Err(diagnostics) = manifest::validate_files(&together, &vars) {
            panic!("{name} (with its directory) is invalid: {diagnostics:?}");
        }
        // A `for_each` document is checked as one of its copies would be.
        let copy = vars.with("each", "att01");
        for document in manifest::json_documents(&text, &copy).unwrap() {
            let errors: Vec<String> = validator
                .iter_errors(&document)
                .map(|e| e.to_string())
                .collect();
            assert!(errors.is_empty(), "{name} against the schema: {errors:?}");
        }
    }
}

#[test]
fn the_schema_rejects_what_validation_rejects() {
    let schema: serde_json::Value = serde_json::from_str(&manifest::schema_json()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let vars = Variables::default();
    for name in [
        "unknown-key-in-spec",
        "agent-name-pattern",
        "temperature-out-of-range",
        "unknown-kind",
        "too-many-labels",
        "seed-bad-memories",
    ] {
        let text = std::fs::read_to_string(
            root().join(format!("tests/fixtures/bad-manifests/{name}.yaml")),
        )
        .unwrap();
        let docs = manifest::json_documents(&text, &vars).unwrap();
        assert!(
            docs.iter().any(|d| !validator.is_valid(d)),
            "{name} passes the schema"
        );
    }
}

mod fuzz {
    use super::*;
    use proptest::prelude::*;

    const SEED: &str = include_str!("../manifests/seed/seed.yaml");

    fn validate_bytes(bytes: Vec<u8>) {
        // Whatever the input, validation answers (Ok or diagnostics) and never panics.
        if let Ok(file) = manifest::SourceFile::try_from_bytes("fuzz.yaml", bytes) {
            let _ = manifest::validate(&[file], &Variables::default());
        }
    }

    /// A few hundred cases in the normal test run; `.ci/run` runs a longer, still brief pass
    /// with `FOUNDRYCTL_FUZZ_CASES`.
    fn cases() -> u32 {
        std::env::var("FOUNDRYCTL_FUZZ_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(256)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            validate_bytes(bytes);
        }

        #[test]
        fn near_valid_yaml_never_panics(
            edits in proptest::collection::vec((0..SEED.len(), prop_oneof![
                Just(""), Just(":"), Just("- "), Just("\n"), Just("\t"), Just("{"), Just("]"),
                Just("&a "), Just("*a"), Just("${X}"), Just("---\n"), Just("\""), Just("  "), Just("#"),
                Just("é"), Just("!!str "), Just("<<: *a\n"), Just("? "),
            ]), 1..6),
        ) {
            let mut text = SEED.as_bytes().to_vec();
            for (at, insert) in edits {
                let at = at.min(text.len());
                if insert.is_empty() {
                    if at < text.len() { text.remove(at); }
                } else {
                    text.splice(at..at, insert.bytes());
                }
            }
            validate_bytes(text);
        }
    }
}
