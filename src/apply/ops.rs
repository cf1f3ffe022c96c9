//! One plan [`Op`] → the client calls that carry it out, and the saved-plan precondition check
//! that runs right before them. Nothing here chooses: the op says exactly what to send.

use std::collections::BTreeMap;

use crate::foundry::wire::MemoryItem;
use crate::foundry::{Client, ClientError, MemoryKind, convert};
use crate::model::{
    AgentName, AgentSpec, Ownership, ResourceRef, SetName, fingerprint, newest_stamped_owner,
    normalize_content,
};
use crate::plan::{Action, Op, Precondition};

/// Why an action did not complete.
#[derive(Debug, thiserror::Error)]
pub enum OpError {
    /// The saved plan's precondition no longer holds: the resource changed since the plan was
    /// made. Nothing was written.
    #[error("{resource} changed since the plan was made ({found}); nothing was written to it")]
    Stale {
        resource: ResourceRef,
        found: String,
    },
    /// A replace deleted the store, then failed to create it again: the store is now absent,
    /// and the next apply will create it.
    /// The client error is part of the message (the report prints one line per action), not
    /// also a source: a cause is printed once.
    #[error("deleted the store, then failed to create it again: {0}")]
    ReplaceHalfDone(ClientError),
    /// The write happened, but another apply (or a person) wrote a version of the same agent
    /// (`theirs`) between the plan's read and this write. The version made is deleted again
    /// (`undone`), so the agent stays as the other writer left it; the next plan shows the
    /// truth.
    #[error(
        "{resource} was written concurrently: another writer made version {theirs} after the \
         plan's read, before this apply's version {made}; {undone}"
    )]
    Concurrent {
        resource: ResourceRef,
        made: String,
        theirs: String,
        undone: String,
    },
    /// The seed's writes happened, but memories it wrote were written by someone else too
    /// meanwhile (another apply of the same seed, or a user): the extra copies were deleted
    /// (`undone`), so each memory is there once; the next plan shows the truth.
    #[error(
        "{resource} was written concurrently: {doubled} also written by someone else \
         meanwhile; {undone}"
    )]
    ConcurrentMemories {
        resource: ResourceRef,
        /// "1 memory it wrote was", "3 memories it wrote were".
        doubled: String,
        undone: String,
    },
    #[error(transparent)]
    Client(#[from] ClientError),
}

impl OpError {
    /// A precondition failed before the write, or a concurrent write was found after it: the
    /// run stops scheduling and exits 6.
    pub fn is_stale(&self) -> bool {
        matches!(
            self,
            OpError::Stale { .. } | OpError::Concurrent { .. } | OpError::ConcurrentMemories { .. }
        )
    }
}

/// Sends the writes for `op` and says, in a few words, what was done.
///
/// # Guarantees
/// - A replace deletes first and creates second, as the plan orders it; when the create fails
///   the error says the delete happened.
/// - Creates survive a lost answer without duplicates (the client reads back before resending),
///   so running an op again after an unknown outcome converges.
/// - An agent version is the one planned or a conflict: when another writer's version came
///   between the plan's read and ours, ours is deleted again ([`OpError::Concurrent`]). The
///   expected number ("1" for a create, the latest + 1) needs no request to tell; any other
///   number (a gap left by a deleted version, or a concurrent write) is told by one list of
///   the agent's versions.
pub async fn run(client: &Client, action: &Action) -> Result<String, OpError> {
    Ok(match &action.op {
        Op::CreateStore {
            name,
            spec,
            metadata,
        } => {
            client.create_store(name, spec, metadata).await?;
            "created".to_owned()
        }
        Op::UpdateStore {
            name,
            description,
            metadata,
        } => {
            client.update_store(name, description, metadata).await?;
            "updated in place".to_owned()
        }
        Op::ReplaceStore {
            name,
            spec,
            metadata,
        } => {
            client.delete_store(name).await?;
            client
                .create_store(name, spec, metadata)
                .await
                .map_err(OpError::ReplaceHalfDone)?;
            "replaced (deleted, then created)".to_owned()
        }
        Op::DeleteStore { name } => deleted(client.delete_store(name).await?, "deleted"),
        Op::CreateAgentVersion {
            name,
            spec,
            metadata,
        } => {
            let version = new_version(client, action, name, spec, metadata).await?;
            format!("created version {version}")
        }
        Op::DeleteAgent { name } => deleted(
            client.delete_agent(name).await?,
            "deleted with all its versions",
        ),
        Op::SeedMemories {
            store,
            create,
            delete,
        } => {
            // Concurrently: a seed of 50 memories is not 50 round trips in a row. The client's
            // in-flight limit bounds them; a failure stops the rest (the next plan writes what
            // is missing, as presence is judged by content).
            let mut writes = tokio::task::JoinSet::new();
            for memory in create {
                let (client, store, memory) = (client.clone(), store.clone(), memory.clone());
                writes.spawn(async move {
                    let kind = MemoryKind::from(memory.kind.clone());
                    client
                        .create_item(&store, &memory.scope, &memory.content, &kind)
                        .await?;
                    // The scope and content sent, not as echoed: the answer may omit them.
                    Ok::<_, ClientError>(Written {
                        scope: memory.scope,
                        kind: memory.kind,
                        content: memory.content,
                    })
                });
            }
            let mut written = Vec::new();
            while let Some(joined) = writes.join_next().await {
                match joined {
                    Ok(item) => written.push(item?),
                    Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                    Err(e) => {
                        return Err(ClientError::Request {
                            operation: "create memory items",
                            reason: e.to_string(),
                        }
                        .into());
                    }
                };
            }
            undo_doubled_writes(client, action, store, &written).await?;
            let mut deleted = 0;
            for memory in delete {
                if client.delete_item(store, &memory.memory_id).await? {
                    deleted += 1;
                }
            }
            match (create.len(), deleted) {
                (n, 0) => format!("wrote {}", memories(n)),
                (n, d) => format!("wrote {}, deleted {}", memories(n), memories(d)),
            }
        }
        Op::StampStore {
            name,
            description,
            metadata,
        } => {
            client.update_store(name, description, metadata).await?;
            "stamped as managed by foundryctl".to_owned()
        }
        Op::StampAgent {
            name,
            spec,
            metadata,
        } => {
            let version = new_version(client, action, name, spec, metadata).await?;
            format!("stamped as managed by foundryctl (version {version})")
        }
    })
}

/// What a delete did: `done`, or "already absent" when the client found nothing to delete
/// (gone before the run, or a retried delete whose first answer was lost).
fn deleted(found: bool, done: &str) -> String {
    if found {
        done.to_owned()
    } else {
        "already absent".to_owned()
    }
}

fn memories(n: usize) -> String {
    if n == 1 {
        "1 memory".to_owned()
    } else {
        format!("{n} memories")
    }
}

/// A memory a seed wrote, as it was sent.
struct Written {
    scope: String,
    kind: String,
    content: String,
}

/// Reads each scope the seed wrote to again and, for every memory it wrote that is there more
/// than once, keeps one copy and deletes the others: nothing stops two writers (two applies of
/// one seed, or a user) from both finding a memory missing and both writing it, and presence
/// is judged by content, so a plan would never show the copy.
///
/// # Guarantees
/// Every writer running this check keeps the same copy, the one first by (`updated_at`,
/// `memory_id`), whoever wrote it, and deletes the rest: of two writes of one memory, the later
/// writer's check starts after both writes and sees both, so exactly one copy remains, and
/// never none (two checks that both see both delete the same copy; one finds it gone).
async fn undo_doubled_writes(
    client: &Client,
    action: &Action,
    store: &crate::model::MemoryStoreName,
    written: &[Written],
) -> Result<(), OpError> {
    let scopes: std::collections::BTreeSet<&str> =
        written.iter().map(|w| w.scope.as_str()).collect();
    let mut doubled = 0;
    let mut extra: Vec<String> = Vec::new();
    for scope in scopes {
        let items = client.list_items(store, scope).await?;
        let mine: Vec<&Written> = written.iter().filter(|w| w.scope == scope).collect();
        let (n, ids) = extra_copies(&items, &mine);
        doubled += n;
        extra.extend(ids);
    }
    if doubled == 0 {
        return Ok(());
    }
    let mut failed = Vec::new();
    for id in &extra {
        if let Err(e) = client.delete_item(store, id).await {
            failed.push(format!("{id}: {e}"));
        }
    }
    let undone = if failed.is_empty() {
        "the extra copies were deleted, so each is there once".to_owned()
    } else {
        format!("deleting the extra copies failed for {}", failed.join("; "))
    };
    Err(OpError::ConcurrentMemories {
        resource: action.resource.clone(),
        doubled: format!(
            "{} it wrote {}",
            memories(doubled),
            if doubled == 1 { "was" } else { "were" }
        ),
        undone,
    })
}

/// Of one scope's `items`, the memories of `written` held more than once (how many), and the
/// ids of every copy but the one first by (`updated_at`, `memory_id`), sorted: the same answer
/// for every writer that reads the same items, whichever copies it wrote.
fn extra_copies(items: &[MemoryItem], written: &[&Written]) -> (usize, Vec<String>) {
    let mut doubled = 0;
    let mut extra = Vec::new();
    for mine in written {
        let content = normalize_content(&mine.content);
        let mut copies: Vec<&MemoryItem> = items
            .iter()
            .filter(|item| {
                item.kind.as_str() == mine.kind && normalize_content(&item.content) == content
            })
            .collect();
        if copies.len() < 2 {
            continue;
        }
        doubled += 1;
        copies.sort_by(|a, b| (a.updated_at, &a.memory_id).cmp(&(b.updated_at, &b.memory_id)));
        extra.extend(copies[1..].iter().map(|c| c.memory_id.clone()));
    }
    extra.sort();
    extra.dedup();
    (doubled, extra)
}

/// The latest version the plan read: 0 when the agent was absent. `None` when it is not a
/// number (nothing to compare) or the action writes no agent version.
fn planned_latest(precondition: &Precondition) -> Option<u64> {
    match precondition {
        Precondition::Absent => Some(0),
        Precondition::Agent { latest_version, .. } => latest_version.parse().ok(),
        Precondition::Store { .. } | Precondition::Memories { .. } => None,
    }
}

/// Writes a new version of agent `name` (a planned one, or a stamp) and checks its number
/// against the plan ([`planned_version`]); returns the number the service gave it.
async fn new_version(
    client: &Client,
    action: &Action,
    name: &AgentName,
    spec: &AgentSpec,
    metadata: &BTreeMap<String, String>,
) -> Result<String, OpError> {
    let version = client.create_agent_version(name, spec, metadata).await?;
    planned_version(client, action, name, &version.version).await?;
    Ok(version.version)
}

/// Keeps the version our write made when no one else's came between the plan's read and it;
/// otherwise deletes ours again (it was made over someone else's) and reports the conflict.
///
/// The next number (the planned latest + 1, or 1 for a create) says so at no cost. Any other
/// number is either a gap (the service never reuses the number of a deleted version, say one
/// a losing concurrent apply deleted again) or someone else's write; one list of the agent's
/// versions tells which. Of two racing writes, the one with the lower number is kept.
async fn planned_version(
    client: &Client,
    action: &Action,
    name: &AgentName,
    made: &str,
) -> Result<(), OpError> {
    let (Some(after), Ok(ours)) = (planned_latest(&action.precondition), made.parse::<u64>())
    else {
        return Ok(());
    };
    if ours == after + 1 {
        return Ok(());
    }
    let versions = client.list_agent_versions(name).await?;
    let theirs: Vec<u64> = versions
        .iter()
        .filter_map(|v| v.version.parse::<u64>().ok())
        .filter(|n| *n > after && *n < ours)
        .collect();
    if theirs.is_empty() {
        return Ok(());
    }
    let undone = match client.delete_agent_version(name, made).await {
        Ok(_) => format!("version {made} was deleted again"),
        Err(e) => format!("deleting version {made} again failed too: {e}"),
    };
    Err(OpError::Concurrent {
        resource: action.resource.clone(),
        made: made.to_owned(),
        theirs: theirs
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        undone,
    })
}

/// Reads the action's resource (one GET; a seed's store too, and an agent's versions when a new
/// version goes over one made outside foundryctl) and refuses when it no longer looks the way
/// the saved plan recorded. The file is not trusted beyond that either: what an action writes over must
/// be `set`'s (an update, replace or delete; a new agent version, unless it restores an agent
/// whose newest stamped version is `set`'s; a seed's store), an import adopts only what no set
/// manages, and a seed deletes only memories that are in the scopes read, as the plan shows
/// them (id, kind and content).
pub async fn check_precondition(
    client: &Client,
    action: &Action,
    set: &SetName,
) -> Result<(), OpError> {
    let stale = |found: String| OpError::Stale {
        resource: action.resource.clone(),
        found,
    };
    let not_ours = |ownership: &Ownership| {
        stale(format!(
            "it is not set {set}'s to change ({})",
            ownership.owner()
        ))
    };
    // What the op may write over, by the owner of what is there now.
    let may_write_over = |ownership: &Ownership| match &action.op {
        Op::StampStore { .. } | Op::StampAgent { .. } => {
            !ownership.managed || ownership.is_owned_by(set)
        }
        Op::UpdateStore { .. }
        | Op::ReplaceStore { .. }
        | Op::DeleteStore { .. }
        | Op::DeleteAgent { .. }
        | Op::CreateStore { .. }
        | Op::CreateAgentVersion { .. }
        | Op::SeedMemories { .. } => ownership.is_owned_by(set),
    };
    match &action.resource {
        ResourceRef::MemoryStore(name) => {
            let live = client.get_store(name).await?;
            if action.precondition.holds_for_store(live.as_ref()) {
                return match live.map(|store| Ownership::from_metadata(&store.metadata)) {
                    Some(owner) if !may_write_over(&owner) => Err(not_ours(&owner)),
                    _ => Ok(()),
                };
            }
            Err(stale(match (&action.precondition, live) {
                (Precondition::Absent, Some(_)) => "it exists now".to_owned(),
                (_, None) => "it no longer exists".to_owned(),
                (_, Some(store)) => format!(
                    "its definition or metadata differ; last updated at {}",
                    rfc3339_utc(store.updated_at)
                ),
            }))
        }
        ResourceRef::MemorySeed(_) => {
            let Precondition::Memories {
                store,
                scopes,
                fingerprint: expected,
            } = &action.precondition
            else {
                return Err(stale(
                    "the saved plan records no memories for it".to_owned(),
                ));
            };
            let mut read = BTreeMap::new();
            for scope in scopes {
                let items = client.list_items(store, scope).await?;
                read.insert(
                    scope.clone(),
                    items.iter().map(convert::live_memory).collect::<Vec<_>>(),
                );
            }
            if fingerprint::live_memories(&read) != *expected {
                return Err(stale(format!(
                    "the memories of its scopes in memory_store/{store} differ"
                )));
            }
            let Some(live_store) = client.get_store(store).await? else {
                return Err(stale(format!("memory_store/{store} does not exist")));
            };
            let owner = Ownership::from_metadata(&live_store.metadata);
            if !may_write_over(&owner) {
                return Err(stale(format!(
                    "memory_store/{store} is not set {set}'s to change ({})",
                    owner.owner()
                )));
            }
            let deletes = if let Op::SeedMemories { delete, .. } = &action.op {
                delete.as_slice()
            } else {
                &[]
            };
            let unread = deletes.iter().find(|d| {
                !read.get(&d.scope).is_some_and(|memories| {
                    memories.iter().any(|m| {
                        m.id == d.memory_id && m.kind.as_str() == d.kind && m.content == d.content
                    })
                })
            });
            match unread {
                Some(d) => Err(stale(format!(
                    "memory {} is not the {} memory \"{}\" of scope {} the plan shows",
                    d.memory_id, d.kind, d.content, d.scope
                ))),
                None => Ok(()),
            }
        }
        ResourceRef::Agent(name) => {
            let live = client.get_agent(name).await?;
            if action.precondition.holds_for_agent(live.as_ref()) {
                let Some(agent) = live else {
                    return Ok(());
                };
                let owner = agent.ownership();
                if may_write_over(&owner) {
                    return Ok(());
                }
                // A new version over one made outside foundryctl restores an agent this set
                // owned before (drift); the history says whether it did.
                if matches!(action.op, Op::CreateAgentVersion { .. })
                    && !owner.managed
                    && newest_stamped_owner(&client.list_agent_versions(name).await?)
                        .is_some_and(|o| o.is_owned_by(set))
                {
                    return Ok(());
                }
                return Err(not_ours(&owner));
            }
            Err(stale(match (&action.precondition, live) {
                (Precondition::Absent, Some(agent)) => {
                    format!("it exists now, at version {}", agent.latest.version)
                }
                (_, None) => "it no longer exists".to_owned(),
                (Precondition::Agent { latest_version, .. }, Some(agent))
                    if agent.latest.version == *latest_version =>
                {
                    format!(
                        "its latest version {latest_version} is not the one the plan read (made \
                         {}, {}): the agent was deleted and made again, or its version replaced",
                        rfc3339_utc(agent.latest.created_at),
                        agent.ownership().owner(),
                    )
                }
                (Precondition::Agent { latest_version, .. }, Some(agent)) => format!(
                    "its latest version is {}, the plan expected {latest_version}",
                    agent.latest.version
                ),
                (_, Some(agent)) => format!("its latest version is {}", agent.latest.version),
            }))
        }
    }
}

/// A Unix timestamp (seconds) as RFC 3339 in UTC, `2026-11-30T12:36:55Z`: the service's
/// `updated_at` read by people. Pure arithmetic (the proleptic Gregorian calendar, Howard
/// Hinnant's `civil_from_days`), so no date crate is needed for one message.
pub fn rfc3339_utc(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let of_day = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60
    )
}

#[cfg(test)]
mod tests {
    use super::{MemoryItem, Written, extra_copies, rfc3339_utc};
    use crate::foundry::MemoryKind;

    fn item(id: &str, updated_at: i64, content: &str) -> MemoryItem {
        MemoryItem {
            memory_id: id.into(),
            updated_at,
            scope: "dana".into(),
            content: content.into(),
            kind: MemoryKind::UserProfile,
        }
    }

    /// Two applies of one seed both wrote "Writes Python." (b and c) over a user's older copy
    /// (a). Whichever of them checks, and whichever copy it wrote, both delete b and c: the
    /// oldest copy stays, and exactly one does.
    #[test]
    fn every_writer_keeps_the_same_copy_of_a_doubled_memory() {
        let items = [
            item("c", 20, "Writes Python."),
            item("b", 20, "Writes  Python."),
            item("z", 20, "Uses Helix."),
            item("a", 10, "Writes Python."),
        ];
        let python = Written {
            scope: "dana".into(),
            kind: "user_profile".into(),
            content: "Writes Python.".into(),
        };
        let helix = Written {
            scope: "dana".into(),
            kind: "user_profile".into(),
            content: "Uses Helix.".into(),
        };
        let one = extra_copies(&items, &[&python, &helix]);
        assert_eq!(one, (1, vec!["b".to_owned(), "c".to_owned()]));
        assert_eq!(extra_copies(&items, &[&python]), one);
        // Once they are gone, nothing more is deleted.
        assert_eq!(extra_copies(&items[2..], &[&python, &helix]), (0, vec![]));
        // Same second: the id decides, for every writer alike.
        let tie = [item("y", 5, "Uses Helix."), item("x", 5, "Uses Helix.")];
        assert_eq!(extra_copies(&tie, &[&helix]), (1, vec!["y".to_owned()]));
    }

    #[test]
    fn timestamps_read_as_rfc3339_utc() {
        assert_eq!(rfc3339_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339_utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339_utc(1_796_132_215), "2026-12-01T13:36:55Z");
        assert_eq!(rfc3339_utc(1_709_251_199), "2024-02-29T23:59:59Z");
        assert_eq!(rfc3339_utc(-1), "1969-12-31T23:59:59Z");
    }

    /// Every day boundary over four centuries agrees with `httpdate`'s (independent) formatting.
    #[test]
    fn agrees_with_httpdate_day_by_day() {
        let months = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        for day in (0..146_097_i64).step_by(7) {
            let secs = day * 86_400 + 3_723;
            let ours = rfc3339_utc(secs);
            let when = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs as u64);
            // `Sun, 06 Nov 1994 08:49:37 GMT`
            let theirs = httpdate::fmt_http_date(when);
            let parts: Vec<&str> = theirs.split(' ').collect();
            let month = months.iter().position(|m| *m == parts[2]).unwrap() + 1;
            let expected = format!("{}-{month:02}-{}T{}Z", parts[3], parts[1], parts[4]);
            assert_eq!(ours, expected, "{secs}");
        }
    }
}
