//! `foundryctl check`: puts each declared agent's probes to it, in parallel (bounded), and
//! judges the answers.
//!
//! # Expected flow
//! For every agent the manifests declare, each of its `checks` (or one default probe) is one
//! Responses call with the agent reference and `x-memory-user-id`. The answer is judged: it
//! must not be empty; an agent with a memory search tool must have called it; `expect` texts
//! must appear (case-insensitively) in a recalled memory and in the answer.
//!
//! # Guarantees
//! `check` writes nothing itself. A probe without `user_id` asks as a throw-away user
//! (`foundryctl-check-…`): afterwards, for each memory tool whose scope is `{{$userId}}`,
//! `check` waits for the write-back of the turn when the tool's `update_delay` is short
//! ([`MAX_FORGET_WAIT`]) and then deletes that scope; with a longer delay it deletes the scope
//! at once and reports that the turn may still land there later. A probe with `user_id` (or a
//! tool with a fixed scope) may leave its turn in that scope, and the report says which.
//!
//! # Errors
//! A failed call is a failed probe (its error is the reason), not a failed command: one
//! missing agent does not hide the others' results.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::foundry::{AgentResponse, Client, ClientError};
use crate::model::{Agent, DesiredState, MemorySearchTool, Probe, Tool};
use crate::render::check::{AgentCheck, CheckReport, ExpectView, ProbeResult};

/// How long a throw-away probe waits for its turn's write-back before forgetting its scope:
/// a memory tool with a longer `update_delay` is not waited for.
pub const MAX_FORGET_WAIT: Duration = Duration::from_secs(30);

/// The placeholder a memory tool's scope uses for the caller's user id.
const USER_ID: &str = "{{$userId}}";

/// Runs every probe of every declared agent, at most `parallelism` at once, and reports in
/// the manifests' order (agents by name, probes as declared).
pub async fn run_checks(
    client: &Client,
    desired: &DesiredState,
    parallelism: usize,
) -> CheckReport {
    let limit = Arc::new(Semaphore::new(parallelism.max(1)));
    let run = throwaway_prefix();
    let mut tasks = JoinSet::new();
    let mut shapes = Vec::new();
    for (agent_index, agent) in desired.agents.values().enumerate() {
        let declared = desired.checks.get(&agent.name);
        let probes: Vec<(Probe, bool)> = match declared {
            Some(probes) => probes.iter().map(|p| (p.clone(), false)).collect(),
            None => vec![(Probe::default_for_agent(), true)],
        };
        shapes.push((agent.clone(), probes.len()));
        for (probe_index, (probe, default_probe)) in probes.into_iter().enumerate() {
            let client = client.clone();
            let agent = agent.clone();
            let limit = Arc::clone(&limit);
            let asked_as = probe
                .user_id
                .clone()
                .unwrap_or_else(|| format!("{run}-{agent_index}-{probe_index}"));
            tasks.spawn(async move {
                // The semaphore is never closed, so acquiring cannot fail; without a permit the
                // probe would still run, only unbounded.
                let _permit = limit.acquire_owned().await.ok();
                let result = run_probe(&client, &agent, probe, default_probe, asked_as).await;
                (agent_index, probe_index, result)
            });
        }
    }
    let mut results: Vec<Vec<Option<ProbeResult>>> =
        shapes.iter().map(|(_, n)| vec![None; *n]).collect();
    while let Some(joined) = tasks.join_next().await {
        // A probe task only panics on a bug; its slot then stays empty and is reported failed.
        if let Ok((a, p, result)) = joined {
            results[a][p] = Some(result);
        }
    }
    let agents = shapes
        .into_iter()
        .zip(results)
        .map(|((agent, _), probes)| AgentCheck {
            agent: agent.name.to_string(),
            has_memory_tool: memory_tools(&agent).next().is_some(),
            probes: probes
                .into_iter()
                .map(|p| p.unwrap_or_else(lost_probe))
                .collect(),
        })
        .collect();
    CheckReport::new(agents)
}

/// `foundryctl-check-<pid><nanos>`: unique enough that no real user has it, and recognisable
/// in a store should a write-back land after `check` forgot the scope.
fn throwaway_prefix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "foundryctl-check-{:x}{:x}",
        std::process::id(),
        nanos % (1 << 40)
    )
}

fn memory_tools(agent: &Agent) -> impl Iterator<Item = &MemorySearchTool> {
    agent.spec.tools.iter().filter_map(|t| match t {
        Tool::MemorySearch(t) => Some(t),
        Tool::Other(_) => None,
    })
}

fn lost_probe() -> ProbeResult {
    ProbeResult {
        ask: String::new(),
        user_id: None,
        default_probe: false,
        asked_as: String::new(),
        answered: false,
        answer: None,
        memory_tool_called: false,
        memories: Vec::new(),
        expect: ExpectView::default(),
        passed: false,
        failures: vec!["the probe stopped unexpectedly (a bug in foundryctl)".to_owned()],
        may_leave: None,
        forgot_scope: None,
    }
}

async fn run_probe(
    client: &Client,
    agent: &Agent,
    probe: Probe,
    default_probe: bool,
    asked_as: String,
) -> ProbeResult {
    let throwaway = probe.user_id.is_none();
    let answer = client
        .invoke_agent(&agent.name, None, &probe.ask, Some(&asked_as))
        .await;
    let searches = answer.as_ref().map(searches).unwrap_or_default();
    let mut result = judge(agent, &probe, default_probe, &asked_as, &answer, &searches);
    if throwaway {
        forget(client, agent, &asked_as, &searches, &mut result).await;
    } else {
        result.may_leave = left_behind(agent, &asked_as);
    }
    result
}

/// The `memory_search_call` items of a response: their update ids and recalled contents.
struct Search {
    update_id: Option<String>,
    memories: Vec<String>,
}

fn searches(answer: &AgentResponse) -> Vec<Search> {
    answer
        .memory_search_calls()
        .into_iter()
        .map(|call| Search {
            update_id: call.update_id.map(str::to_owned),
            memories: call
                .memories
                .iter()
                .filter_map(|m| {
                    // Flat items on the Responses surface; `memory_item`-wrapped tolerated.
                    let m = m.get("memory_item").unwrap_or(m);
                    m.get("content").and_then(Value::as_str).map(str::to_owned)
                })
                .collect(),
        })
        .collect()
}

/// The verdict on one answer. Pure, so the rules are tested without a project.
fn judge(
    agent: &Agent,
    probe: &Probe,
    default_probe: bool,
    asked_as: &str,
    answer: &Result<AgentResponse, ClientError>,
    searches: &[Search],
) -> ProbeResult {
    let mut failures = Vec::new();
    let text = match answer {
        Ok(response) => Some(response.text.clone()),
        Err(error) => {
            failures.push(format!("the agent could not be invoked: {error}"));
            None
        }
    };
    let answered = text.as_deref().is_some_and(|t| !t.trim().is_empty());
    if text.is_some() && !answered {
        failures.push("the agent gave an empty answer".to_owned());
    }
    let memories: Vec<String> = searches.iter().flat_map(|s| s.memories.clone()).collect();
    let called = !searches.is_empty();
    let has_tool = memory_tools(agent).next().is_some();
    if answer.is_ok() && has_tool && !called {
        failures.push("the agent has a memory tool but did not call it".to_owned());
    }
    let contains =
        |haystack: &str, needle: &str| haystack.to_lowercase().contains(&needle.to_lowercase());
    if answer.is_ok() {
        if let Some(want) = &probe.expect.memory_recalled
            && !memories.iter().any(|m| contains(m, want))
        {
            failures.push(format!("no recalled memory contains {want:?}"));
        }
        if let Some(want) = &probe.expect.answer_contains
            && !text.as_deref().is_some_and(|t| contains(t, want))
        {
            failures.push(format!("the answer does not contain {want:?}"));
        }
    }
    ProbeResult {
        ask: probe.ask.clone(),
        user_id: probe.user_id.clone(),
        default_probe,
        asked_as: asked_as.to_owned(),
        answered,
        answer: text,
        memory_tool_called: called,
        memories,
        expect: ExpectView {
            memory_recalled: probe.expect.memory_recalled.clone(),
            answer_contains: probe.expect.answer_contains.clone(),
        },
        passed: failures.is_empty(),
        failures,
        may_leave: None,
        forgot_scope: None,
    }
}

/// The scope (or scopes, comma-separated) a probe asked as `user` may leave its turn in: every
/// memory tool's scope, with `{{$userId}}` resolved.
fn left_behind(agent: &Agent, user: &str) -> Option<String> {
    let scopes: Vec<String> = memory_tools(agent)
        .map(|t| {
            format!(
                "{} in store {}",
                t.scope.replace(USER_ID, user),
                t.memory_store_name
            )
        })
        .collect();
    (!scopes.is_empty()).then(|| scopes.join(", "))
}

/// Forgets a throw-away probe's scopes: waits for the write-back when it is due soon, then
/// deletes each `{{$userId}}` scope. A tool with a fixed scope cannot be cleaned (other
/// users' memories share it) and is reported as left behind.
async fn forget(
    client: &Client,
    agent: &Agent,
    user: &str,
    searches: &[Search],
    result: &mut ProbeResult,
) {
    let mut left = Vec::new();
    let mut forgot = Vec::new();
    // The service runs one memory search per tool, in the tools' order.
    for (index, tool) in memory_tools(agent).enumerate() {
        let scope = tool.scope.replace(USER_ID, user);
        if !tool.scope.contains(USER_ID) {
            left.push(format!("{scope} in store {}", tool.memory_store_name));
            continue;
        }
        let delay = Duration::from_secs(
            tool.update_delay
                .unwrap_or(MemorySearchTool::DEFAULT_UPDATE_DELAY),
        );
        let update = searches.get(index).and_then(|s| s.update_id.as_deref());
        let mut waited = true;
        if let Some(update_id) = update {
            waited =
                delay <= MAX_FORGET_WAIT && wait_for_update(client, tool, update_id, delay).await;
        }
        match client.delete_scope(&tool.memory_store_name, &scope).await {
            Ok(_) => forgot.push(format!("{scope} in store {}", tool.memory_store_name)),
            Err(error) => result.failures.push(format!(
                "could not forget throw-away scope {scope}: {error}"
            )),
        }
        if !waited {
            left.push(format!(
                "{scope} in store {} (its write-back is due after {} s)",
                tool.memory_store_name,
                delay.as_secs()
            ));
        }
    }
    result.passed = result.failures.is_empty();
    result.may_leave = (!left.is_empty()).then(|| left.join(", "));
    result.forgot_scope = (!forgot.is_empty()).then(|| forgot.join(", "));
}

/// Waits (at most a little longer than `delay`) for a write-back to finish; `false` when it did
/// not.
async fn wait_for_update(
    client: &Client,
    tool: &MemorySearchTool,
    update_id: &str,
    delay: Duration,
) -> bool {
    let store = &tool.memory_store_name;
    let waiting = async {
        tokio::time::sleep(delay).await;
        let started = client.get_update(store, update_id).await?;
        client.wait_update(store.as_str(), &started, None).await
    };
    matches!(
        tokio::time::timeout(delay + MAX_FORGET_WAIT, waiting).await,
        Ok(Ok(_))
    )
}
