//! A small GitHub Actions runner: enough of it to run the example workflows as GitHub would.
//!
//! Jobs run in `needs` order; a step's `if:` is evaluated (with the implicit `success()`), its
//! `run:` script goes to `bash --noprofile --norc -eo pipefail` (GitHub's `bash` shell) with the
//! workflow, job and step `env:` evaluated, and `GITHUB_OUTPUT`, `GITHUB_ENV`, `GITHUB_PATH` and
//! `GITHUB_STEP_SUMMARY` as files read back after each step. The OIDC variables are given only
//! when the workflow asks for `id-token: write`, as GitHub does. `uses:` steps are the known
//! actions below, done by hand (checkout copies the repository; artifacts are directories);
//! any other action fails the run. The step `id: install` is replaced by putting the binary
//! built from this tree on `GITHUB_PATH`.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::world::{self, World};

/// The actions the examples may use; anything else is an error of the example.
pub const KNOWN_ACTIONS: [&str; 3] = [
    "actions/checkout@v4",
    "actions/upload-artifact@v4",
    "actions/download-artifact@v4",
];

pub struct Event {
    pub name: &'static str,
    pub payload: Value,
}

impl Event {
    pub fn pull_request(number: u64, sha: &str) -> Event {
        Event {
            name: "pull_request",
            payload: json!({"pull_request": {"number": number, "head": {"sha": sha}}}),
        }
    }

    pub fn push() -> Event {
        Event {
            name: "push",
            payload: json!({"ref": "refs/heads/main"}),
        }
    }

    pub fn schedule() -> Event {
        Event {
            name: "schedule",
            payload: json!({"schedule": "17 5 * * *"}),
        }
    }
}

#[derive(Debug, Default)]
pub struct Step {
    pub name: String,
    /// `None` when skipped.
    pub code: Option<i32>,
    pub outputs: HashMap<String, String>,
    /// Shown (through `Debug`) when an assertion on the job fails.
    #[expect(dead_code, reason = "read through Debug when a test fails")]
    pub log: String,
}

#[derive(Debug, Default)]
pub struct Job {
    pub ran: bool,
    pub ok: bool,
    pub steps: Vec<Step>,
    pub outputs: HashMap<String, String>,
    pub summary: String,
}

impl Job {
    pub fn step(&self, name: &str) -> &Step {
        self.steps
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("no step {name:?} in {self:#?}"))
    }
}

#[derive(Debug)]
pub struct Run {
    pub jobs: BTreeMap<String, Job>,
    pub artifacts: PathBuf,
}

impl Run {
    pub fn job(&self, name: &str) -> &Job {
        &self.jobs[name]
    }

    pub fn artifact(&self, name: &str) -> BTreeMap<String, String> {
        world::files(&self.artifacts.join(name))
    }
}

/// The expression contexts a step sees.
struct Ctx<'a> {
    vars: &'a HashMap<String, String>,
    event: &'a Value,
    steps: &'a HashMap<String, HashMap<String, String>>,
    needs: &'a HashMap<String, HashMap<String, String>>,
    ok_so_far: bool,
}

impl Ctx<'_> {
    fn eval(&self, expr: &str) -> String {
        let e = expr.trim();
        if let Some((l, r)) = e.split_once("==") {
            return (self.eval(l) == self.eval(r)).to_string();
        }
        if let Some(lit) = e.strip_prefix('\'').and_then(|e| e.strip_suffix('\'')) {
            return lit.to_owned();
        }
        match e {
            "always()" => return "true".into(),
            "success()" => return self.ok_so_far.to_string(),
            "failure()" => return (!self.ok_so_far).to_string(),
            _ => {}
        }
        let parts: Vec<&str> = e.split('.').collect();
        let get = |m: &HashMap<String, HashMap<String, String>>, id: &str, name: &str| {
            m.get(id)
                .and_then(|o| o.get(name))
                .cloned()
                .unwrap_or_default()
        };
        match parts[..] {
            ["vars", name] => self.vars.get(name).cloned().unwrap_or_default(),
            ["github", "token"] => "ghs_fake_installation_token".into(),
            ["github", "event", ref path @ ..] => {
                let mut v = self.event;
                for p in path {
                    v = &v[*p];
                }
                match v {
                    Value::String(s) => s.clone(),
                    Value::Null => String::new(),
                    other => other.to_string(),
                }
            }
            ["steps", id, "outputs", name] => get(self.steps, id, name),
            ["needs", job, "outputs", name] => get(self.needs, job, name),
            _ => panic!(
                "the test runner does not evaluate `{e}`: extend it, or simplify the workflow"
            ),
        }
    }

    /// A string with `${{ … }}` replaced.
    fn interpolate(&self, text: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${{") {
            out.push_str(&rest[..start]);
            let end = rest[start..].find("}}").expect("closed expression") + start;
            out.push_str(&self.eval(&rest[start + 3..end]));
            rest = &rest[end + 2..];
        }
        out.push_str(rest);
        out
    }

    /// An `if:`: GitHub adds `success() &&` unless a status function is named.
    fn condition(&self, cond: Option<&Value>) -> bool {
        let Some(cond) = cond.and_then(Value::as_str) else {
            return self.ok_so_far;
        };
        let cond = cond
            .trim()
            .strip_prefix("${{")
            .and_then(|c| c.strip_suffix("}}"))
            .unwrap_or(cond);
        let status = ["always()", "success()", "failure()", "cancelled()"]
            .iter()
            .any(|f| cond.contains(f));
        let value = self.eval(cond);
        let truthy = !(value.is_empty() || value == "false" || value == "0");
        truthy && (status || self.ok_so_far)
    }

    fn env(&self, map: Option<&Value>) -> BTreeMap<String, String> {
        map.and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .map(|(k, v)| {
                        let v = match v {
                            Value::String(s) => s.clone(),
                            other => other.to_string(),
                        };
                        (k.clone(), self.interpolate(&v))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// `name=value` lines and `name<<DELIMITER` blocks, as in `GITHUB_OUTPUT` and `GITHUB_ENV`.
fn parse_file_commands(path: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut out = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some((name, delimiter)) = line.split_once("<<") {
            let mut value = Vec::new();
            for l in lines.by_ref() {
                if l == delimiter {
                    break;
                }
                value.push(l);
            }
            out.push((name.to_owned(), value.join("\n")));
        } else if let Some((name, value)) = line.split_once('=') {
            out.push((name.to_owned(), value.to_owned()));
        }
    }
    out
}

/// The jobs in an order that respects `needs`.
fn job_order(jobs: &serde_json::Map<String, Value>) -> Vec<String> {
    let mut order: Vec<String> = Vec::new();
    while order.len() < jobs.len() {
        let before = order.len();
        for (id, job) in jobs {
            if order.contains(id) {
                continue;
            }
            let needs: Vec<String> = match &job["needs"] {
                Value::String(s) => vec![s.clone()],
                Value::Array(a) => a
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect(),
                _ => Vec::new(),
            };
            if needs.iter().all(|n| order.contains(n)) {
                order.push(id.clone());
            }
        }
        assert!(order.len() > before, "jobs with unsatisfiable needs");
    }
    order
}

/// Runs `examples/github-actions/FILE` for `event` with repository `vars`.
pub fn run(world: &World, file: &str, event: &Event, vars: &HashMap<String, String>) -> Run {
    run_with(world, file, event, vars, |_| {})
}

/// [`run`], calling `before_job(job id)` before each job that runs: the moment a reviewer
/// approves, or someone else changes the project.
pub fn run_with(
    world: &World,
    file: &str,
    event: &Event,
    vars: &HashMap<String, String>,
    mut before_job: impl FnMut(&str),
) -> Run {
    let wf = world::load(&format!("examples/github-actions/{file}"));
    let dir = world.run_dir();
    let artifacts = dir.join("artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let id_token = wf["permissions"]["id-token"] == "write";
    let jobs = wf["jobs"].as_object().expect("jobs");
    let mut done: BTreeMap<String, Job> = BTreeMap::new();
    let mut needs_outputs: HashMap<String, HashMap<String, String>> = HashMap::new();
    for job_id in job_order(jobs) {
        let spec = &jobs[&job_id];
        let needs_ok = match &spec["needs"] {
            Value::String(n) => done[n].ok,
            Value::Array(a) => a.iter().all(|n| done[n.as_str().unwrap()].ok),
            _ => true,
        };
        let empty = HashMap::new();
        let ctx = Ctx {
            vars,
            event: &event.payload,
            steps: &empty,
            needs: &needs_outputs,
            ok_so_far: needs_ok,
        };
        if !ctx.condition(spec.get("if")) {
            done.insert(job_id, Job::default());
            continue;
        }
        before_job(&job_id);
        let mut base = ctx.env(wf.get("env"));
        base.extend(ctx.env(spec.get("env")));
        let job = run_job(
            world,
            &dir.join(&job_id),
            &artifacts,
            spec,
            base,
            vars,
            event,
            id_token,
        );
        needs_outputs.insert(job_id.clone(), job.outputs.clone());
        done.insert(job_id, job);
    }
    Run {
        jobs: done,
        artifacts,
    }
}

#[expect(clippy::too_many_arguments, reason = "the runner's whole state, once")]
fn run_job(
    world: &World,
    dir: &Path,
    artifacts: &Path,
    spec: &Value,
    mut env: BTreeMap<String, String>,
    vars: &HashMap<String, String>,
    event: &Event,
    id_token: bool,
) -> Job {
    let workspace = dir.join("workspace");
    let temp = dir.join("temp");
    std::fs::create_dir_all(&workspace).unwrap();
    std::fs::create_dir_all(&temp).unwrap();
    let path_file = dir.join("path");
    let env_file = dir.join("env");
    let mut extra_path: Vec<String> = Vec::new();
    let mut steps_out: HashMap<String, HashMap<String, String>> = HashMap::new();
    let mut job = Job {
        ran: true,
        ok: true,
        ..Job::default()
    };
    for (index, step) in spec["steps"].as_array().expect("steps").iter().enumerate() {
        let name = step["name"]
            .as_str()
            .or_else(|| step["uses"].as_str())
            .unwrap_or("step")
            .to_owned();
        let ctx = Ctx {
            vars,
            event: &event.payload,
            steps: &steps_out,
            needs: &HashMap::new(),
            ok_so_far: job.ok,
        };
        if !ctx.condition(step.get("if")) {
            job.steps.push(Step {
                name,
                ..Step::default()
            });
            continue;
        }
        let with = ctx.env(step.get("with"));
        let mut step_env = env.clone();
        step_env.extend(ctx.env(step.get("env")));
        let (code, log, outputs) = if let Some(action) = step["uses"].as_str() {
            let (code, log) = run_action(world, action, &with, &workspace, artifacts);
            (code, log, HashMap::new())
        } else if step["id"] == "install" {
            let script = step["run"].as_str().unwrap();
            assert!(
                script.contains("cargo install --locked") && script.contains("GITHUB_PATH"),
                "the install step installs with cargo and puts foundryctl on PATH:\n{script}"
            );
            std::fs::write(
                &path_file,
                format!("{}\n", world::foundryctl_dir().display()),
            )
            .unwrap();
            (
                0,
                "replaced by the binary built from the tree".into(),
                HashMap::new(),
            )
        } else {
            let script = step["run"].as_str().expect("a step has run: or uses:");
            let output = dir.join(format!("output-{index}"));
            let summary = dir.join(format!("summary-{index}"));
            let mut full = step_env.clone();
            let runner_path = std::fs::read_to_string(&path_file).unwrap_or_default();
            for p in runner_path.lines().rev() {
                if !extra_path.contains(&p.to_owned()) {
                    extra_path.insert(0, p.to_owned());
                }
            }
            let mut path = extra_path.clone();
            path.push(world::system_path(world));
            full.extend(runner_env(world, &workspace, &temp, event, id_token));
            full.insert("PATH".into(), path.join(":"));
            full.insert("GITHUB_OUTPUT".into(), output.display().to_string());
            full.insert("GITHUB_STEP_SUMMARY".into(), summary.display().to_string());
            full.insert("GITHUB_ENV".into(), env_file.display().to_string());
            full.insert("GITHUB_PATH".into(), path_file.display().to_string());
            let (code, stdout, stderr) = world::bash(
                &["--noprofile", "--norc", "-eo", "pipefail"],
                script,
                &workspace,
                &full,
            );
            job.summary
                .push_str(&std::fs::read_to_string(&summary).unwrap_or_default());
            for (k, v) in parse_file_commands(&env_file) {
                env.insert(k, v);
            }
            let outputs = parse_file_commands(&output).into_iter().collect();
            (code, format!("{stdout}{stderr}"), outputs)
        };
        if let Some(id) = step["id"].as_str() {
            steps_out.insert(id.to_owned(), outputs.clone());
        }
        if code != 0 {
            job.ok = false;
        }
        job.steps.push(Step {
            name,
            code: Some(code),
            outputs,
            log,
        });
    }
    let ctx = Ctx {
        vars,
        event: &event.payload,
        steps: &steps_out,
        needs: &HashMap::new(),
        ok_so_far: job.ok,
    };
    job.outputs = ctx.env(spec.get("outputs")).into_iter().collect();
    job
}

/// What the runner itself provides to every step.
fn runner_env(
    world: &World,
    workspace: &Path,
    temp: &Path,
    event: &Event,
    id_token: bool,
) -> BTreeMap<String, String> {
    let mut env: BTreeMap<String, String> = [
        ("CI", "true"),
        ("GITHUB_ACTIONS", "true"),
        ("GITHUB_REPOSITORY", "octo-org/octo-repo"),
        ("GITHUB_SERVER_URL", "https://github.com"),
        ("GITHUB_RUN_ID", "4242"),
        ("GITHUB_EVENT_NAME", event.name),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    env.insert("GITHUB_WORKSPACE".into(), workspace.display().to_string());
    env.insert("RUNNER_TEMP".into(), temp.display().to_string());
    env.insert("HOME".into(), temp.display().to_string());
    env.insert(
        "FAKE_GH_STATE".into(),
        world.gh_state().display().to_string(),
    );
    if id_token {
        env.insert(
            "ACTIONS_ID_TOKEN_REQUEST_URL".into(),
            world.endpoints.oidc_request_url.clone(),
        );
        env.insert(
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN".into(),
            world.endpoints.oidc_request_token.clone(),
        );
    }
    // Stand-ins for the cloud: Entra is the emulator's token endpoint, whose certificate the
    // runner trusts. A real runner needs neither.
    env.insert(
        "AZURE_AUTHORITY_HOST".into(),
        world.endpoints.authority_host.clone(),
    );
    env.insert("SSL_CERT_FILE".into(), world.cert.display().to_string());
    env
}

fn run_action(
    world: &World,
    action: &str,
    with: &BTreeMap<String, String>,
    workspace: &Path,
    artifacts: &Path,
) -> (i32, String) {
    match action {
        "actions/checkout@v4" => {
            crate::common::copy_dir(&world.source(), workspace);
            (0, "checked out".into())
        }
        "actions/upload-artifact@v4" => {
            let target = artifacts.join(&with["name"]);
            let _ = std::fs::remove_dir_all(&target);
            std::fs::create_dir_all(&target).unwrap();
            let mut found = 0;
            for file in with["path"]
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
            {
                let source = workspace.join(file);
                if source.is_file() {
                    std::fs::copy(&source, target.join(source.file_name().unwrap())).unwrap();
                    found += 1;
                }
            }
            let missing = with.get("if-no-files-found").map(String::as_str);
            if found == 0 && missing == Some("error") {
                return (1, "no files found".into());
            }
            (0, format!("uploaded {found} files"))
        }
        "actions/download-artifact@v4" => {
            let source = artifacts.join(&with["name"]);
            if !source.is_dir() {
                return (1, format!("artifact {} not found", with["name"]));
            }
            let target = with
                .get("path")
                .map(|p| workspace.join(p))
                .unwrap_or_else(|| workspace.to_owned());
            crate::common::copy_dir(&source, &target);
            (0, "downloaded".into())
        }
        other => panic!("unknown action {other}: the examples may use only {KNOWN_ACTIONS:?}"),
    }
}
