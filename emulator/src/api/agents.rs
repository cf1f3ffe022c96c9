//! Agents: versions are immutable and numbered "1", "2", … per agent, never reused (the counter
//! survives version deletes; it restarts only when the whole agent is deleted). An agent whose
//! versions were all deleted is invisible until a new version is created.

use axum::Json;
use axum::extract::{Path, State};
use rusqlite::{Connection, params};
use serde_json::{Map, Value, json};

use super::error::{ApiError, ApiResult};
use super::paging::{EmptyIds, ListQuery, Order, PageParams, envelope};
use super::request::{Checked, CheckedBody, Project};
use super::{ApiVersion, AppState, Ctx, json_body, lookup, validate};
use crate::config::VersionDedup;
use crate::ids;

pub(crate) fn agent_missing(name: &str) -> ApiError {
    ApiError::not_found(format!("Agent {name} doesn't exist"))
}

pub(crate) fn version_missing(name: &str, version: &str) -> ApiError {
    ApiError::not_found(format!("Agent {name} with version {version} not found"))
}

/// The latest version's wire JSON of a visible agent.
pub fn latest(conn: &Connection, name: &str) -> ApiResult<Option<Value>> {
    lookup::json(
        conn,
        "SELECT body FROM versions WHERE agent = ?1 ORDER BY version DESC LIMIT 1",
        [name],
    )
}

/// One version's wire JSON.
pub fn version(conn: &Connection, name: &str, version: i64) -> ApiResult<Option<Value>> {
    lookup::json(
        conn,
        "SELECT body FROM versions WHERE agent = ?1 AND version = ?2",
        params![name, version],
    )
}

fn agent_object(name: &str, latest: Value) -> Value {
    json!({"object": "agent", "id": name, "name": name, "versions": {"latest": latest}})
}

/// Validates a definition for `ctx`'s api-version. Prompt agents are checked field by field;
/// preview kinds need their `Foundry-Features` opt-in (403 as recorded for workflows).
fn check_definition(ctx: &Ctx, def: &Map<String, Value>) -> ApiResult<()> {
    let kind = validate::required_str(def, "kind", "definition.kind")?;
    let gate = |what: &str, feature: &str| {
        if ctx.has_feature(feature) {
            Ok(())
        } else {
            Err(ApiError::preview_required(what, feature))
        }
    };
    match kind {
        "prompt" => {}
        "workflow" => return gate("Workflow agents", "WorkflowAgents=V1Preview"),
        "hosted" => return gate("Hosted agents", "HostedAgents=V1Preview"),
        "container_app" => return gate("Container agents", "ContainerAgents=V1Preview"),
        other => {
            return Err(ApiError::invalid(
                "definition.kind",
                format!("Unknown agent definition kind '{other}'."),
            ));
        }
    }
    validate::required_str(def, "model", "definition.model")?;
    validate::number_in(def, "temperature", "definition.temperature", 0.0, 2.0)?;
    validate::number_in(def, "top_p", "definition.top_p", 0.0, 1.0)?;
    if let Some(v) = def.get("instructions")
        && !(v.is_string() || v.is_null())
    {
        return Err(ApiError::invalid(
            "definition.instructions",
            "'instructions' must be a string.",
        ));
    }
    let tools = match def.get("tools") {
        None | Some(Value::Null) => return Ok(()),
        Some(Value::Array(t)) => t,
        Some(_) => {
            return Err(ApiError::invalid(
                "definition.tools",
                "'tools' must be an array.",
            ));
        }
    };
    for (i, tool) in tools.iter().enumerate() {
        let param = format!("definition.tools[{i}]");
        let Some(tool) = tool.as_object() else {
            return Err(ApiError::invalid(param, "A tool must be an object."));
        };
        let ty = validate::required_str(tool, "type", &format!("{param}.type"))?;
        if ty == "memory_search" || ty == "memory_search_preview" {
            check_memory_tool(ctx.version, tool, ty, &param)?;
        }
    }
    Ok(())
}

/// The memory search tool: its type must be the one of this api-version.
fn check_memory_tool(
    version: ApiVersion,
    tool: &Map<String, Value>,
    ty: &str,
    param: &str,
) -> ApiResult<()> {
    let expected = version.memory_tool_type();
    if ty != expected {
        let api = match version {
            ApiVersion::V1 => "v1",
            ApiVersion::Preview => ApiVersion::PREVIEW,
        };
        return Err(ApiError::invalid(
            format!("{param}.type"),
            format!("Tool type '{ty}' is not supported in api-version {api}; use '{expected}'."),
        ));
    }
    validate::required_str(
        tool,
        "memory_store_name",
        &format!("{param}.memory_store_name"),
    )?;
    validate::required_str(tool, "scope", &format!("{param}.scope"))?;
    if let Some(d) = tool.get("update_delay")
        && d.as_i64().is_none_or(|n| n < 0)
    {
        return Err(ApiError::invalid(
            format!("{param}.update_delay"),
            "'update_delay' must be a non-negative integer (seconds).",
        ));
    }
    Ok(())
}

/// `POST /agents/{name}/versions`: creates the agent on first use. With
/// [`VersionDedup::On`] (the default), a request whose definition, description and metadata
/// equal the latest version's returns that version unchanged (the observed deduplication, which
/// the service does not promise); with `Off` every request makes a new version.
pub async fn create_version(
    State(state): State<AppState>,
    Path(name): Path<String>,
    CheckedBody { ctx, body, .. }: CheckedBody<Project>,
) -> ApiResult<Json<Value>> {
    validate::agent_name(&name)?;
    let body = json_body(&body)?;
    let definition = validate::required_object(&body, "definition")?.clone();
    let description = validate::description(&body)?;
    let metadata = validate::metadata(&body)?;
    check_definition(&ctx, &definition)?;
    let dedup = state.version_dedup == VersionDedup::On;
    let out = state
        .db
        .write(move |tx| {
            if dedup
                && let Some(current) = latest(tx, &name)?
                && current["definition"] == Value::Object(definition.clone())
                && current["description"] == Value::String(description.clone())
                && current["metadata"] == Value::Object(metadata.clone())
            {
                return Ok(current);
            }
            let last = lookup::int(
                tx,
                "SELECT last_version FROM agents WHERE name = ?1",
                [&name],
            )?;
            let number = last.unwrap_or(0) + 1;
            match last {
                Some(_) => tx.execute(
                    "UPDATE agents SET last_version = ?1 WHERE name = ?2",
                    params![number, name],
                )?,
                None => tx.execute(
                    "INSERT INTO agents (name, last_version) VALUES (?1, ?2)",
                    params![name, number],
                )?,
            };
            let version = json!({
                "metadata": metadata,
                "object": "agent.version",
                "id": format!("{name}:{number}"),
                "name": name,
                "version": number.to_string(),
                "description": description,
                "created_at": ids::now_secs(),
                "definition": definition,
            });
            tx.execute(
                "INSERT INTO versions (agent, version, body) VALUES (?1, ?2, ?3)",
                params![name, number, version.to_string()],
            )?;
            Ok(version)
        })
        .await?;
    Ok(Json(out))
}

/// `GET /agents/{name}`: the agent with its latest version.
pub async fn get(
    State(state): State<AppState>,
    Path(name): Path<String>,
    _: Checked<Project>,
) -> ApiResult<Json<Value>> {
    let out = state
        .db
        .read(move |conn| match latest(conn, &name)? {
            Some(v) => Ok(agent_object(&name, v)),
            None => Err(agent_missing(&name)),
        })
        .await?;
    Ok(Json(out))
}

/// `DELETE /agents/{name}`: every version goes, and the version counter with them.
pub async fn delete(
    State(state): State<AppState>,
    Path(name): Path<String>,
    _: Checked<Project>,
) -> ApiResult<Json<Value>> {
    let out = state
        .db
        .write(move |tx| {
            let versions = tx.execute("DELETE FROM versions WHERE agent = ?1", [&name])?;
            tx.execute("DELETE FROM agents WHERE name = ?1", [&name])?;
            if versions == 0 {
                return Err(ApiError::not_found("Agent not found"));
            }
            Ok(json!({"object": "agent.deleted", "name": name, "deleted": true}))
        })
        .await?;
    Ok(Json(out))
}

/// `GET /agents`: agents with at least one version, by creation order (default newest first),
/// cursors are agent names; the empty page omits `first_id`/`last_id` as recorded.
pub async fn list(
    State(state): State<AppState>,
    Checked { query, .. }: Checked<Project>,
) -> ApiResult<Json<Value>> {
    let page = PageParams::from_query(&query, Order::Desc)?;
    let limit = page.limit;
    let rows = state
        .db
        .read(move |conn| {
            let list = ListQuery {
                select: "SELECT a.name, (SELECT body FROM versions v WHERE v.agent = a.name \
                         ORDER BY v.version DESC LIMIT 1) AS latest FROM agents a \
                         WHERE latest IS NOT NULL",
                column: "a.seq",
                params: Vec::new(),
            };
            let rows = page.fetch(
                conn,
                list,
                |n| lookup::int(conn, "SELECT seq FROM agents WHERE name = ?1", [n]),
                |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)),
            )?;
            rows.into_iter()
                .map(|(name, body)| {
                    let v: Value = serde_json::from_str(&body)?;
                    Ok((name.clone(), agent_object(&name, v)))
                })
                .collect::<ApiResult<Vec<_>>>()
        })
        .await?;
    Ok(Json(envelope(rows, limit, EmptyIds::Absent)))
}

/// `GET /agents/{name}/versions`: default newest first (recorded); cursors are `name:n` ids.
pub async fn list_versions(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Checked { query, .. }: Checked<Project>,
) -> ApiResult<Json<Value>> {
    let page = PageParams::from_query(&query, Order::Desc)?;
    let limit = page.limit;
    let rows = state
        .db
        .read(move |conn| {
            if !lookup::exists(conn, "SELECT 1 FROM agents WHERE name = ?1", [&name])? {
                return Err(agent_missing(&name));
            }
            // A cursor is "<name>:<n>"; one naming another agent or not a number matches nothing.
            let number_of = |id: &str| {
                Ok(id
                    .rsplit_once(':')
                    .filter(|(n, _)| *n == name)
                    .and_then(|(_, v)| v.parse::<i64>().ok()))
            };
            let list = ListQuery {
                select: "SELECT body FROM versions WHERE agent = ?",
                column: "version",
                params: vec![name.clone().into()],
            };
            let bodies = page.fetch(conn, list, number_of, |r| r.get::<_, String>(0))?;
            bodies
                .into_iter()
                .map(|b| {
                    let v: Value = serde_json::from_str(&b)?;
                    let id = v["id"].as_str().unwrap_or_default().to_owned();
                    Ok((id, v))
                })
                .collect::<ApiResult<Vec<_>>>()
        })
        .await?;
    Ok(Json(envelope(rows, limit, EmptyIds::Absent)))
}

/// `GET /agents/{name}/versions/{version}`.
pub async fn get_version(
    State(state): State<AppState>,
    Path((name, number)): Path<(String, String)>,
    _: Checked<Project>,
) -> ApiResult<Json<Value>> {
    let out = state
        .db
        .read(move |conn| {
            let found = match number.parse::<i64>() {
                Ok(n) => version(conn, &name, n)?,
                Err(_) => None,
            };
            found.ok_or_else(|| version_missing(&name, &number))
        })
        .await?;
    Ok(Json(out))
}

/// `DELETE /agents/{name}/versions/{version}`: the number is never handed out again.
pub async fn delete_version(
    State(state): State<AppState>,
    Path((name, number)): Path<(String, String)>,
    _: Checked<Project>,
) -> ApiResult<Json<Value>> {
    let out = state
        .db
        .write(move |tx| {
            let n = match number.parse::<i64>() {
                Ok(n) => tx.execute(
                    "DELETE FROM versions WHERE agent = ?1 AND version = ?2",
                    params![name, n],
                )?,
                Err(_) => 0,
            };
            if n == 0 {
                return Err(version_missing(&name, &number));
            }
            Ok(json!({
                "object": "agent.version.deleted",
                "name": name,
                "version": number,
                "deleted": true,
            }))
        })
        .await?;
    Ok(Json(out))
}
