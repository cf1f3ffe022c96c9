//! A small Azure Pipelines agent: enough of it to run the example pipelines as Azure would.
//!
//! Stages run in order, each behind its `condition:` (default: the stages it depends on
//! succeeded); a job is a `job:` or a `deployment:` with `runOnce`. `bash:` steps and
//! `AzureCLI@2` inline scripts run with `bash --noprofile --norc`, variables as environment
//! variables (`Build.ArtifactStagingDirectory` → `BUILD_ARTIFACTSTAGINGDIRECTORY`), and the
//! logging commands `task.setvariable` (with `isOutput`), `task.prependpath` and
//! `task.uploadsummary` read from stdout. `AzureCLI@2` runs with a signed-in `az` on `PATH`
//! (the fake). Artifacts are directories. The step `name: install` is replaced by prepending
//! the binary built from this tree to `PATH`.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::world::{self, World};

pub const KNOWN_TASKS: [&str; 2] = ["AzureCLI@2", "PublishPipelineArtifact@1"];

/// One step's result, shown (through `Debug`) when an assertion on its job fails.
#[derive(Debug, Default)]
#[expect(dead_code, reason = "read through Debug when a test fails")]
pub struct Step {
    pub name: String,
    pub code: Option<i32>,
    pub log: String,
}

#[derive(Debug, Default)]
pub struct Job {
    pub ok: bool,
    pub steps: Vec<Step>,
    /// `step.variable` of the `isOutput` variables.
    pub outputs: HashMap<String, String>,
    pub summaries: Vec<String>,
}

#[derive(Debug)]
pub struct Run {
    /// stage → job → result.
    pub stages: BTreeMap<String, BTreeMap<String, Job>>,
    pub artifacts: PathBuf,
    pub az_calls: Vec<String>,
}

impl Run {
    pub fn job(&self, stage: &str, job: &str) -> &Job {
        &self.stages[stage][job]
    }

    pub fn artifact(&self, name: &str) -> BTreeMap<String, String> {
        world::files(&self.artifacts.join(name))
    }
}

/// The stages of a pipeline: `stages:`, or one implicit stage of one implicit job.
fn stages(pipeline: &Value) -> Vec<(String, Value)> {
    match pipeline["stages"].as_array() {
        Some(stages) => stages
            .iter()
            .map(|s| (s["stage"].as_str().unwrap().to_owned(), s.clone()))
            .collect(),
        None => vec![(
            "__default".into(),
            serde_json::json!({"jobs": [{"job": "__default", "steps": pipeline["steps"]}]}),
        )],
    }
}

/// The jobs of a stage with their steps.
fn jobs(stage: &Value) -> Vec<(String, Vec<Value>)> {
    stage["jobs"]
        .as_array()
        .expect("jobs")
        .iter()
        .map(|job| {
            if let Some(name) = job["job"].as_str() {
                (name.to_owned(), job["steps"].as_array().unwrap().clone())
            } else {
                let name = job["deployment"].as_str().expect("job or deployment");
                let steps = job["strategy"]["runOnce"]["deploy"]["steps"]
                    .as_array()
                    .expect("a runOnce deployment");
                (name.to_owned(), steps.clone())
            }
        })
        .collect()
}

/// A condition in the expression syntax, as far as the examples use it.
fn eval(expr: &str, ok: bool, deps: &HashMap<String, HashMap<String, String>>) -> String {
    let e = expr.trim();
    if let Some(lit) = e.strip_prefix('\'').and_then(|e| e.strip_suffix('\'')) {
        return lit.to_owned();
    }
    if let Some(rest) = e.strip_prefix("dependencies.") {
        let (stage, rest) = rest
            .split_once(".outputs['")
            .expect("dependencies.S.outputs['…']");
        let key = rest.strip_suffix("']").unwrap();
        return deps
            .get(stage)
            .and_then(|o| o.get(key))
            .cloned()
            .unwrap_or_default();
    }
    let open = e
        .find('(')
        .unwrap_or_else(|| panic!("cannot evaluate `{e}`"));
    let name = &e[..open];
    let inner = e[open + 1..].strip_suffix(')').expect("closed call");
    let mut args = Vec::new();
    let (mut depth, mut start, mut quoted) = (0, 0, false);
    for (i, c) in inner.char_indices() {
        match c {
            '\'' => quoted = !quoted,
            '(' | '[' if !quoted => depth += 1,
            ')' | ']' if !quoted => depth -= 1,
            ',' if depth == 0 && !quoted => {
                args.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if !inner.trim().is_empty() {
        args.push(&inner[start..]);
    }
    let truthy = |v: String| !(v.is_empty() || v.eq_ignore_ascii_case("false"));
    let value = match name {
        "succeeded" => ok,
        "always" => true,
        "and" => args.iter().all(|a| truthy(eval(a, ok, deps))),
        "eq" => eval(args[0], ok, deps).eq_ignore_ascii_case(&eval(args[1], ok, deps)),
        other => panic!("the test agent does not evaluate {other}()"),
    };
    value.to_string()
}

fn condition(
    cond: Option<&str>,
    ok: bool,
    deps: &HashMap<String, HashMap<String, String>>,
) -> bool {
    let value = eval(cond.unwrap_or("succeeded()"), ok, deps);
    value == "true"
}

/// Runs `examples/azure-pipelines/FILE` with pipeline `vars` (as set in the pipeline's UI).
pub fn run(world: &World, file: &str, vars: &HashMap<String, String>) -> Run {
    let pipeline = world::load(&format!("examples/azure-pipelines/{file}"));
    let dir = world.run_dir();
    let artifacts = dir.join("artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let az_log = dir.join("az.log");
    let mut variables: BTreeMap<String, String> =
        vars.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    if let Some(map) = pipeline["variables"].as_object() {
        for (k, v) in map {
            variables.insert(k.clone(), v.as_str().unwrap().to_owned());
        }
    }
    let mut result = BTreeMap::new();
    let mut deps: HashMap<String, HashMap<String, String>> = HashMap::new();
    let mut stage_ok: HashMap<String, bool> = HashMap::new();
    let mut previous: Option<String> = None;
    for (stage_name, stage) in stages(&pipeline) {
        let depends: Vec<String> = match &stage["dependsOn"] {
            Value::String(s) => vec![s.clone()],
            Value::Array(a) => a.iter().map(|v| v.as_str().unwrap().to_owned()).collect(),
            _ => previous.iter().cloned().collect(),
        };
        let ok = depends.iter().all(|d| stage_ok[d]);
        let mut jobs_run = BTreeMap::new();
        if condition(stage["condition"].as_str(), ok, &deps) {
            for (job_name, steps) in jobs(&stage) {
                let job_dir = dir.join(format!("{stage_name}-{job_name}"));
                let job = run_job(world, &job_dir, &artifacts, &az_log, &steps, &variables);
                let outputs = deps.entry(stage_name.clone()).or_default();
                for (k, v) in &job.outputs {
                    outputs.insert(format!("{job_name}.{k}"), v.clone());
                }
                jobs_run.insert(job_name, job);
            }
        }
        let ran_ok = !jobs_run.is_empty() && jobs_run.values().all(|j: &Job| j.ok);
        stage_ok.insert(stage_name.clone(), ran_ok);
        result.insert(stage_name.clone(), jobs_run);
        previous = Some(stage_name);
    }
    let az_calls = std::fs::read_to_string(&az_log)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect();
    Run {
        stages: result,
        artifacts,
        az_calls,
    }
}

fn run_job(
    world: &World,
    dir: &Path,
    artifacts: &Path,
    az_log: &Path,
    steps: &[Value],
    variables: &BTreeMap<String, String>,
) -> Job {
    let sources = dir.join("s");
    let staging = dir.join("a");
    let temp = dir.join("tmp");
    for d in [&sources, &staging, &temp] {
        std::fs::create_dir_all(d).unwrap();
    }
    let macros: HashMap<&str, String> = HashMap::from([
        (
            "Build.ArtifactStagingDirectory",
            staging.display().to_string(),
        ),
        ("Pipeline.Workspace", dir.display().to_string()),
    ]);
    let expand = |text: &str| {
        let mut text = text.to_owned();
        for (k, v) in &macros {
            text = text.replace(&format!("$({k})"), v);
        }
        assert!(!text.contains("$("), "an unknown macro in {text}");
        text
    };
    let mut env: BTreeMap<String, String> = variables
        .iter()
        .map(|(k, v)| (k.to_uppercase().replace('.', "_"), v.clone()))
        .collect();
    for (k, v) in [
        ("TF_BUILD", "True".to_owned()),
        (
            "BUILD_ARTIFACTSTAGINGDIRECTORY",
            staging.display().to_string(),
        ),
        ("PIPELINE_WORKSPACE", dir.display().to_string()),
        ("AGENT_TEMPDIRECTORY", temp.display().to_string()),
        ("BUILD_SOURCESDIRECTORY", sources.display().to_string()),
        ("HOME", temp.display().to_string()),
        ("FAKE_AZ_LOG", az_log.display().to_string()),
        ("FAKE_AZ_TOKEN", world.az_token()),
        // The agent's trust store would hold the project's certificate authority.
        ("SSL_CERT_FILE", world.cert.display().to_string()),
    ] {
        env.insert(k.to_owned(), v);
    }
    let mut path: Vec<String> = Vec::new();
    let mut job = Job {
        ok: true,
        ..Job::default()
    };
    for step in steps {
        let name = step["displayName"]
            .as_str()
            .or_else(|| step["task"].as_str())
            .unwrap_or("step")
            .to_owned();
        if !condition(step["condition"].as_str(), job.ok, &HashMap::new()) {
            job.steps.push(Step {
                name,
                ..Step::default()
            });
            continue;
        }
        let script = if step["checkout"] == "self" {
            crate::common::copy_dir(&world.source(), &sources);
            None
        } else if step["download"] == "current" {
            let artifact = step["artifact"].as_str().unwrap();
            crate::common::copy_dir(&artifacts.join(artifact), &dir.join(artifact));
            None
        } else if step["name"] == "install" {
            let script = step["bash"].as_str().unwrap();
            assert!(
                script.contains("cargo install --locked") && script.contains("task.prependpath"),
                "the install step installs with cargo and puts foundryctl on PATH:\n{script}"
            );
            path.insert(0, world::foundryctl_dir().display().to_string());
            None
        } else if let Some(script) = step["bash"].as_str() {
            Some(script.to_owned())
        } else {
            match step["task"].as_str() {
                Some("AzureCLI@2") => {
                    let inputs = &step["inputs"];
                    assert_eq!(inputs["scriptType"], "bash");
                    assert_eq!(inputs["scriptLocation"], "inlineScript");
                    Some(inputs["inlineScript"].as_str().unwrap().to_owned())
                }
                Some("PublishPipelineArtifact@1") => {
                    let source =
                        PathBuf::from(expand(step["inputs"]["targetPath"].as_str().unwrap()));
                    let target = artifacts.join(step["inputs"]["artifact"].as_str().unwrap());
                    if source.is_dir() {
                        crate::common::copy_dir(&source, &target);
                    } else {
                        std::fs::create_dir_all(&target).unwrap();
                        std::fs::copy(&source, target.join(source.file_name().unwrap())).unwrap();
                    }
                    None
                }
                other => {
                    panic!("unknown step {other:?}: the examples may use only {KNOWN_TASKS:?}")
                }
            }
        };
        let Some(script) = script else {
            job.steps.push(Step {
                name,
                code: Some(0),
                log: String::new(),
            });
            continue;
        };
        let mut full = env.clone();
        let mut p = path.clone();
        p.push(world::system_path(world));
        full.insert("PATH".into(), p.join(":"));
        let (code, stdout, stderr) =
            world::bash(&["--noprofile", "--norc"], &script, &sources, &full);
        for line in stdout.lines() {
            let Some(command) = line.strip_prefix("##vso[") else {
                continue;
            };
            let (head, value) = command.split_once(']').unwrap();
            let mut parts = head.split(' ');
            let verb = parts.next().unwrap();
            let props: HashMap<&str, &str> = parts
                .flat_map(|p| p.split(';'))
                .filter_map(|p| p.split_once('='))
                .collect();
            match verb {
                "task.setvariable" => {
                    let variable = props["variable"];
                    if props.get("isOutput") == Some(&"true") {
                        let step_name = step["name"]
                            .as_str()
                            .expect("an output variable's step has a name");
                        job.outputs
                            .insert(format!("{step_name}.{variable}"), value.to_owned());
                    }
                    env.insert(variable.to_uppercase().replace('.', "_"), value.to_owned());
                }
                "task.prependpath" => path.insert(0, value.to_owned()),
                "task.uploadsummary" => job
                    .summaries
                    .push(std::fs::read_to_string(value).unwrap_or_default()),
                "task.logissue" => {}
                other => panic!("unknown logging command {other}"),
            }
        }
        if code != 0 {
            job.ok = false;
        }
        job.steps.push(Step {
            name,
            code: Some(code),
            log: format!("{stdout}{stderr}"),
        });
    }
    job
}
