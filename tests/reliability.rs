//! The reliability suite (RELIABILITY.md): real `foundryctl` processes against an emulator on
//! loopback that never merges identical agent versions (`VersionDedup::Off`), under injected
//! faults, kill -9 at random moments, concurrent applies of one set and of two sets that declare
//! the same names, and hand-edited saved plans; then a long parse/validate/plan fuzz run.
//!
//! `RELIABILITY_FUZZ_INPUTS=1000000 cargo test --release --locked --test reliability -- --ignored
//! --nocapture` runs the full version (10^6 fuzz inputs is its default) and prints the figures;
//! the short version (a few trials) runs with every `cargo test`.
//!
//! What is counted, per scenario: trials; converged (after the scenario, one clean `apply` and
//! then `plan --detailed-exitcode` exits 0); duplicate versions (an agent with more versions than
//! its declared definitions: one, or two where the same-set race changes the instructions);
//! stores lost (a store whose id changed or vanished: a replace or delete, which loses
//! memories); token leaks (the run's bearer token in any output); panics (a process that
//! panicked or died of a signal it did not get from the test); takeovers, in the two-set race
//! (an agent carrying versions stamped by both sets).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use foundry_emulator::{Config, Emulator, FaultConfig, VersionDedup};
use foundryctl::foundry::{ApiVersion, Auth, Client, TransportConfig};
use reqwest::Url;

/// How much of everything to run.
#[derive(Debug, Clone, Copy)]
struct Scale {
    fault_trials: usize,
    kill_trials: usize,
    race_trials: usize,
    tamper_trials: usize,
    fuzz_inputs: usize,
}

const SHORT: Scale = Scale {
    fault_trials: 2,
    kill_trials: 3,
    race_trials: 2,
    tamper_trials: 1,
    fuzz_inputs: 3_000,
};

const FULL: Scale = Scale {
    fault_trials: 20,
    kill_trials: 50,
    race_trials: 20,
    tamper_trials: 5,
    fuzz_inputs: 1_000_000,
};

const STORES: usize = 3;
const AGENTS: usize = 6;

/// `STORES` stores and `AGENTS` agents using them, for `set` (which also marks the
/// instructions, so two sets' agents differ).
fn manifests(set: &str, description: &str) -> String {
    let mut out = String::new();
    for s in 0..STORES {
        out.push_str(&format!(
            "apiVersion: foundryctl/v1\nkind: MemoryStore\nmetadata: {{name: store{s}}}\n\
             spec:\n  description: {description}\n  chat_model: gpt-4.1-mini\n  \
             embedding_model: text-embedding-3-large\n---\n"
        ));
    }
    for a in 0..AGENTS {
        out.push_str(&format!(
            "apiVersion: foundryctl/v1\nkind: Agent\nmetadata: {{name: agent{a}}}\nspec:\n  \
             model: gpt-4.1-mini\n  instructions: Agent {a} of {set}.\n  tools:\n    - \
             {{type: memory_search, memory_store_name: store{}, scope: '{{{{$userId}}}}'}}\n---\n",
            a % STORES
        ));
    }
    out
}

/// One emulator on its own runtime, a client for the test, and the run's token.
struct World {
    rt: tokio::runtime::Runtime,
    emulator: Emulator,
    client: Client,
    dir: tempfile::TempDir,
    token: String,
}

impl World {
    fn new() -> World {
        let rt = common::live::runtime();
        let emulator = rt
            .block_on(Emulator::start(Config {
                version_dedup: VersionDedup::Off,
                require_token: true,
                ..Config::default()
            }))
            .unwrap();
        let token = format!("reliability-token-{:016x}", fastrand::u64(..));
        let client = Client::new(
            Url::parse(&emulator.endpoint()).unwrap(),
            ApiVersion::V1,
            Auth::Static(azure_core::credentials::Secret::new(token.clone())),
            TransportConfig::default(),
        )
        .unwrap();
        World {
            rt,
            emulator,
            client,
            dir: tempfile::tempdir().unwrap(),
            token,
        }
    }

    fn write(&self, name: &str, text: &str) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_foundryctl"));
        cmd.current_dir(self.dir.path())
            .env_remove("PROJECT_ENDPOINT")
            .env_remove("CI")
            .env_remove("TF_BUILD")
            .env_remove("RUST_LOG")
            .env("NO_COLOR", "1")
            .env("FOUNDRY_TOKEN", &self.token)
            .args(["--endpoint", &self.emulator.endpoint(), "--auth", "token"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    fn run(&self, args: &[&str], tally: &mut Tally) -> Output {
        let out = self.command(args).output().unwrap();
        tally.check_output(&out, &self.token);
        out
    }

    fn spawn(&self, args: &[&str]) -> Child {
        self.command(args).spawn().unwrap()
    }

    fn set_faults(&self, faults: FaultConfig) {
        self.emulator.set_faults(faults);
    }

    /// Store name → id.
    fn store_ids(&self) -> BTreeMap<String, String> {
        self.rt
            .block_on(self.client.list_stores())
            .unwrap()
            .into_iter()
            .map(|s| (s.name.to_string(), s.id))
            .collect()
    }

    /// Agent name → (number of versions, the sets the versions are stamped with).
    fn agents(&self) -> BTreeMap<String, (usize, BTreeSet<String>)> {
        let agents = self.rt.block_on(self.client.list_agents()).unwrap();
        agents
            .into_iter()
            .map(|a| {
                let versions = self
                    .rt
                    .block_on(self.client.list_agent_versions(&a.name))
                    .unwrap();
                let sets = versions
                    .iter()
                    .filter_map(|v| v.metadata.get("foundryctl-set").cloned())
                    .collect();
                (a.name.to_string(), (versions.len(), sets))
            })
            .collect()
    }

    /// Duplicate versions: every version beyond the one each agent should have.
    fn duplicates(&self) -> usize {
        self.duplicates_beyond(1)
    }

    /// Every version beyond the `expected` each agent should have.
    fn duplicates_beyond(&self, expected: usize) -> usize {
        self.agents()
            .values()
            .map(|(n, _)| n.saturating_sub(expected))
            .sum()
    }

    /// One clean apply (faults off), then whether a plan shows nothing left to do.
    fn converges(&self, file: &str, set: &str, tally: &mut Tally) -> bool {
        self.set_faults(FaultConfig::default());
        self.run(
            &["--set", set, "apply", "--auto-approve", "-f", file],
            tally,
        );
        let plan = self.run(
            &["--set", set, "plan", "--detailed-exitcode", "-f", file],
            tally,
        );
        plan.status.code() == Some(0)
    }
}

/// The figures of one scenario.
#[derive(Debug, Default)]
struct Tally {
    trials: usize,
    converged: usize,
    duplicates: usize,
    stores_lost: usize,
    token_leaks: usize,
    panics: usize,
    /// Agents carrying versions stamped by two sets; counted only where two sets race.
    takeovers: Option<usize>,
    notes: Vec<String>,
}

impl Tally {
    fn check_output(&mut self, out: &Output, token: &str) {
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        if text.contains(token) {
            self.token_leaks += 1;
        }
        if text.contains("panicked") || out.status.code() == Some(101) {
            self.panics += 1;
            self.notes.push(text);
        }
    }

    fn lost(&mut self, before: &BTreeMap<String, String>, after: &BTreeMap<String, String>) {
        self.stores_lost += before
            .iter()
            .filter(|(name, id)| after.get(*name) != Some(*id))
            .count();
    }

    fn line(&self, name: &str) -> String {
        let takeovers = self
            .takeovers
            .map(|n| format!(", {n} takeovers"))
            .unwrap_or_default();
        format!(
            "{name}: {} trials, {} converged, {} duplicate versions, {} stores lost, {} token leaks, {} panics{takeovers}",
            self.trials,
            self.converged,
            self.duplicates,
            self.stores_lost,
            self.token_leaks,
            self.panics
        )
    }

    fn assert_clean(&self, name: &str) {
        assert_eq!(
            self.converged,
            self.trials,
            "{}\n{:?}",
            self.line(name),
            self.notes
        );
        assert_eq!(self.duplicates, 0, "{}", self.line(name));
        assert_eq!(self.stores_lost, 0, "{}", self.line(name));
        assert_eq!(self.token_leaks, 0, "{}", self.line(name));
        assert_eq!(self.panics, 0, "{}\n{:?}", self.line(name), self.notes);
        assert!(
            matches!(self.takeovers, None | Some(0)),
            "{}\n{:?}",
            self.line(name),
            self.notes
        );
    }
}

/// ~36% of requests fail: 8% each 429, 500 and 503, 6% dropped connections, 6% answers lost
/// after the write. Each apply is retried (up to 10 runs) until it exits 0; a changed
/// description is then applied the same way, in place (no store may be replaced).
fn faults(scale: Scale) -> Tally {
    let mut tally = Tally::default();
    for trial in 0..scale.fault_trials {
        let world = World::new();
        let faults = FaultConfig {
            rate_429: 0.08,
            retry_after_secs: 0,
            rate_500: 0.08,
            rate_503: 0.08,
            drop_rate: 0.06,
            lost_answer_rate: 0.06,
            seed: Some(trial as u64),
            ..FaultConfig::default()
        };
        tally.trials += 1;
        let first = world.write("a.yaml", &manifests("a", "First."));
        let apply_until_done = |file: &str, tally: &mut Tally| {
            for _ in 0..10 {
                let out = world.run(&["apply", "--auto-approve", "-f", file], tally);
                if out.status.success() {
                    return true;
                }
            }
            false
        };
        world.set_faults(faults.clone());
        let done = apply_until_done(&first, &mut tally);
        world.set_faults(FaultConfig::default());
        let before = world.store_ids();
        let second = world.write("b.yaml", &manifests("a", "Second."));
        world.set_faults(faults);
        let done = done && apply_until_done(&second, &mut tally);
        if !done {
            tally
                .notes
                .push(format!("trial {trial}: 10 faulted runs did not finish"));
        }
        if world.converges(&second, "default", &mut tally) {
            tally.converged += 1;
        }
        tally.lost(&before, &world.store_ids());
        tally.duplicates += world.duplicates();
    }
    tally
}

/// kill -9 at a random moment of an apply (with latency, so the moment lands among writes),
/// then one clean apply must converge with no duplicate and no store lost.
fn kills(scale: Scale) -> Tally {
    let mut tally = Tally::default();
    for _ in 0..scale.kill_trials {
        let world = World::new();
        tally.trials += 1;
        let file = world.write("a.yaml", &manifests("a", "First."));
        world.set_faults(FaultConfig {
            latency: Duration::from_millis(5),
            jitter: Duration::from_millis(30),
            ..FaultConfig::default()
        });
        let mut child = world.spawn(&["apply", "--auto-approve", "-f", &file]);
        std::thread::sleep(Duration::from_millis(fastrand::u64(0..600)));
        let _ = child.kill();
        let out = child.wait_with_output().unwrap();
        tally.check_output(&out, &world.token);
        // Stores present now are what the re-run must keep.
        let before = world.store_ids();
        if world.converges(&file, "default", &mut tally) {
            tally.converged += 1;
        }
        tally.lost(&before, &world.store_ids());
        tally.duplicates += world.duplicates();
    }
    tally
}

/// Two applies of the same set at once, and two applies of different sets declaring the same
/// names at once. `apply --auto-approve` does not re-read an agent before writing its version:
/// after the POST, a version another writer made between the plan's read and ours is a
/// conflict (exit 6), and ours is deleted again. Same set, from empty and then with changed
/// instructions (after the gap the first race's undone versions leave in the numbers): no
/// agent may keep a version more than it should. Two sets: not both may succeed, and no agent may carry versions
/// of both sets.
fn races(scale: Scale) -> (Tally, Tally, Tally) {
    let mut same = Tally::default();
    let mut changed_tally = Tally::default();
    let mut two = Tally {
        takeovers: Some(0),
        ..Tally::default()
    };
    let latency = FaultConfig {
        latency: Duration::from_millis(2),
        jitter: Duration::from_millis(20),
        ..FaultConfig::default()
    };
    for _ in 0..scale.race_trials {
        // One set, applied twice at once from empty.
        let world = World::new();
        same.trials += 1;
        let file = world.write("a.yaml", &manifests("a", "First."));
        world.set_faults(latency.clone());
        let children = [
            world.spawn(&["apply", "--auto-approve", "-f", &file]),
            world.spawn(&["apply", "--auto-approve", "-f", &file]),
        ];
        for child in children {
            let out = child.wait_with_output().unwrap();
            same.check_output(&out, &world.token);
        }
        if world.converges(&file, "default", &mut same) {
            same.converged += 1;
        }
        same.duplicates += world.duplicates();
        // Then changed instructions, applied twice at once on the same project: of the two
        // writes of each agent, the later one finds the other's version before its own and is
        // undone; two versions per agent, no more. `converges` then applies once more, which
        // must go through despite the gap an undone version leaves in the numbers.
        changed_tally.trials += 1;
        let changed = world.write("a2.yaml", &manifests("a, changed", "First."));
        world.set_faults(latency.clone());
        let children = [
            world.spawn(&["apply", "--auto-approve", "-f", &changed]),
            world.spawn(&["apply", "--auto-approve", "-f", &changed]),
        ];
        for child in children {
            let out = child.wait_with_output().unwrap();
            changed_tally.check_output(&out, &world.token);
        }
        if world.converges(&changed, "default", &mut changed_tally) {
            changed_tally.converged += 1;
        }
        changed_tally.duplicates += world.duplicates_beyond(2);

        // Two sets, the same names, at once.
        let world = World::new();
        two.trials += 1;
        let a = world.write("a.yaml", &manifests("a", "Set a."));
        let b = world.write("b.yaml", &manifests("b", "Set b."));
        world.set_faults(latency.clone());
        let children = [
            world.spawn(&["--set", "a", "apply", "--auto-approve", "-f", &a]),
            world.spawn(&["--set", "b", "apply", "--auto-approve", "-f", &b]),
        ];
        let mut successes = 0;
        for child in children {
            let out = child.wait_with_output().unwrap();
            two.check_output(&out, &world.token);
            successes += usize::from(out.status.success());
        }
        world.set_faults(FaultConfig::default());
        let mixed = world
            .agents()
            .values()
            .filter(|(_, sets)| sets.len() > 1)
            .count();
        if successes == 2 {
            two.notes.push("both sets' applies exited 0".to_owned());
        }
        two.takeovers = Some(two.takeovers.unwrap_or(0) + mixed);
        // Converged here: not both succeeded, every agent belongs to exactly one set, and each
        // set's next plan shows nothing to do (0) or the other set's resources in the way (6).
        let settled = ["a", "b"].iter().zip([&a, &b]).all(|(set, file)| {
            let out = world.run(
                &["--set", set, "plan", "--detailed-exitcode", "-f", file],
                &mut two,
            );
            let settled = matches!(out.status.code(), Some(0 | 6));
            if !settled {
                two.notes.push(format!(
                    "set {set}: plan exit {:?}: {}",
                    out.status.code(),
                    String::from_utf8_lossy(&out.stdout)
                ));
            }
            settled
        });
        if successes < 2 && mixed == 0 && settled {
            two.converged += 1;
        }
        two.duplicates += world.duplicates();
    }
    (same, changed_tally, two)
}

/// A saved plan's in-place update of a store turned into a delete by hand, `blocked` cleared:
/// applying it must be refused (exit 4) and the store kept.
fn tampering(scale: Scale) -> Tally {
    let mut tally = Tally::default();
    for _ in 0..scale.tamper_trials {
        let world = World::new();
        tally.trials += 1;
        let file = world.write("a.yaml", &manifests("a", "First."));
        world.run(&["apply", "--auto-approve", "-f", &file], &mut tally);
        let before = world.store_ids();
        let file = world.write("a.yaml", &manifests("a", "Second."));
        world.run(&["plan", "--out", "plan.json", "-f", &file], &mut tally);
        let path = world.dir.path().join("plan.json");
        let mut saved: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        for action in saved["plan"]["actions"].as_array_mut().unwrap() {
            if action["op"]["op"] == "update_store" {
                let name = action["op"]["name"].clone();
                action["op"] = serde_json::json!({"op": "delete_store", "name": name});
                action["blocked"] = serde_json::Value::Null;
            }
        }
        std::fs::write(&path, serde_json::to_string(&saved).unwrap()).unwrap();
        let out = world.run(&["apply", "plan.json"], &mut tally);
        if out.status.code() != Some(4) {
            tally
                .notes
                .push(format!("tampered plan: exit {:?}", out.status.code()));
        }
        tally.lost(&before, &world.store_ids());
        if world.converges(&file, "default", &mut tally) {
            tally.converged += 1;
        }
        tally.duplicates += world.duplicates();
    }
    tally
}

/// Generated manifests, parsed, validated and planned against a small live state. Inputs are
/// the set's text mutated at random (bytes replaced by YAML-significant ones, lines cut,
/// duplicated or swapped, `${` inserted), so most fail validation somewhere new. No panic;
/// peak memory stays bounded (checked through `VmHWM`).
fn fuzz(scale: Scale) -> (usize, usize, u64) {
    use foundryctl::manifest::{SourceFile, Variables, validate};
    // One store and one agent: small enough that a million inputs take minutes.
    let base = manifests("a", "First.")
        .split("---\n")
        .enumerate()
        .filter(|(i, _)| *i == 0 || *i == STORES)
        .map(|(_, d)| d)
        .collect::<Vec<_>>()
        .join("---\n");
    let live = foundryctl::model::LiveState::default();
    let vars = Variables::from_pairs([("X", "y")]);
    let specials: &[&str] = &[
        ":", "{", "}", "[", "]", "-", "#", "'", "\"", "\n", " ", "${", "${X}", "\u{0}", "\u{202e}",
        "&a", "*a", "!!str", "|", ">", "?", ",", "\t", "%", "@", "`", "0", "true", "null",
    ];
    let mut rng = fastrand::Rng::with_seed(0x5eed);
    let mut panics = 0;
    let mut valid = 0;
    for _ in 0..scale.fuzz_inputs {
        let mut text = base.clone();
        for _ in 0..rng.usize(1..6) {
            let at = rng.usize(0..=text.len());
            let at = (0..=at)
                .rev()
                .find(|i| text.is_char_boundary(*i))
                .unwrap_or(0);
            match rng.u8(0..4) {
                0 => text.insert_str(at, specials[rng.usize(0..specials.len())]),
                1 => {
                    let end = (at + rng.usize(0..20)).min(text.len());
                    let end = (end..=text.len())
                        .find(|i| text.is_char_boundary(*i))
                        .unwrap_or(text.len());
                    text.replace_range(at..end, "");
                }
                2 => {
                    let lines: Vec<&str> = text.lines().collect();
                    let i = rng.usize(0..lines.len().max(1));
                    let mut out: Vec<&str> = lines.clone();
                    if let Some(line) = lines.get(i) {
                        out.insert(i, line);
                    }
                    text = out.join("\n");
                }
                _ => {
                    let mut lines: Vec<&str> = text.lines().collect();
                    if lines.len() > 1 {
                        let (i, j) = (rng.usize(0..lines.len()), rng.usize(0..lines.len()));
                        lines.swap(i, j);
                    }
                    text = lines.join("\n");
                }
            }
        }
        let outcome = std::panic::catch_unwind(|| {
            let files = [SourceFile::new("fuzz.yaml", &text)];
            match validate(&files, &vars) {
                Ok(validated) => {
                    let plan = foundryctl::plan::plan(
                        &validated.desired,
                        &live,
                        &foundryctl::plan::PlanOptions::default(),
                    );
                    let mut sink = Vec::new();
                    foundryctl::render::human::render(
                        &plan,
                        &mut sink,
                        &foundryctl::render::HumanOptions::default(),
                    )
                    .unwrap();
                    true
                }
                Err(_) => false,
            }
        });
        match outcome {
            Ok(true) => valid += 1,
            Ok(false) => {}
            Err(_) => panics += 1,
        }
    }
    (panics, valid, peak_memory_kib())
}

fn peak_memory_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn suite(mut scale: Scale) {
    // `RELIABILITY_FUZZ_INPUTS=N` runs N fuzz inputs instead (say, a debug build's share).
    if let Some(n) = std::env::var("RELIABILITY_FUZZ_INPUTS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        scale.fuzz_inputs = n;
    }
    let started = Instant::now();
    let mut lines = Vec::new();
    let faults = faults(scale);
    lines.push(faults.line("faults"));
    let kills = kills(scale);
    lines.push(kills.line("kill -9"));
    let (same, changed, two) = races(scale);
    lines.push(same.line("concurrent applies, one set"));
    lines.push(changed.line("concurrent applies, one set, new versions"));
    lines.push(two.line("concurrent applies, two sets"));
    let tamper = tampering(scale);
    lines.push(tamper.line("tampered saved plans"));
    let fuzz_started = Instant::now();
    let (panics, valid, peak) = fuzz(scale);
    lines.push(format!(
        "fuzz: {} inputs ({valid} valid and planned), {panics} panics, peak memory {} MiB, {:.0?}",
        scale.fuzz_inputs,
        peak / 1024,
        fuzz_started.elapsed()
    ));
    lines.push(format!("total time {:.0?}", started.elapsed()));
    println!("{}", lines.join("\n"));
    for (name, t) in [
        ("faults", &faults),
        ("kill -9", &kills),
        ("one set", &same),
        ("one set, new versions", &changed),
        ("two sets", &two),
        ("tampering", &tamper),
    ] {
        t.assert_clean(name);
    }
    assert_eq!(panics, 0);
    assert!(peak < 1024 * 1024, "peak memory {peak} KiB");
}

#[test]
fn reliability_short() {
    suite(SHORT);
}

#[test]
#[ignore = "the full reliability run (minutes): RELIABILITY_FUZZ_INPUTS=1000000 cargo test --release --locked --test reliability -- --ignored --nocapture"]
fn reliability_full() {
    suite(FULL);
}
