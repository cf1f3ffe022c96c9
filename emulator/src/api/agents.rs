//! Agents: versions are immutable and numbered "1", "2", … per agent, never reused (the counter
//! survives version deletes; it restarts only when the whole agent is deleted). An agent whose
//! versions were all deleted is invisible until a new version is created.

use axum::Json;
use axum::extract::{Path, State};
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

use super::error::{ApiError, ApiResult};
use super::paging::{EmptyIds, FromQuery as _, ListPage, Order, PageParams, envelope};
use super::request::{ApiVersion, Checked, CheckedBody, Ctx, Project, json_body};
use super::state::AppState;
use super::validate;
use crate::config::VersionDedup;
use crate::store::agents as rows;

/// An agent as `GET /agents/{name}` and list pages spell it: its latest version inside (a
/// parsed one, or on list pages the stored text as written). Fields in alphabetical order, as
/// a JSON object of them was written before.
#[derive(Serialize)]
pub struct AgentObject<L> {
    id: String,
    name: String,
    object: &'static str,
    versions: Latest<L>,
}

#[derive(Serialize)]
pub struct Latest<L> {
    latest: L,
}

impl<L> AgentObject<L> {
    fn new(name: &str, latest: L) -> Self {
        AgentObject {
            id: name.to_owned(),
            name: name.to_owned(),
            object: "agent",
            versions: Latest { latest },
        }
    }
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
    validate::optional_str(def, "instructions", "definition.instructions")?;
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
                && let Some(current) = rows::latest(tx, &name)?
                && current["definition"] == Value::Object(definition.clone())
                && current["description"] == Value::String(description.clone())
                && current["metadata"] == Value::Object(metadata.clone())
            {
                return Ok::<_, ApiError>(current);
            }
            Ok(rows::add_version(
                tx,
                &name,
                Value::Object(definition),
                &description,
                Value::Object(metadata),
            )?)
        })
        .await?;
    Ok(Json(out))
}

/// `GET /agents/{name}`: the agent with its latest version.
pub async fn get(
    State(state): State<AppState>,
    Path(name): Path<String>,
    _: Checked<Project>,
) -> ApiResult<Json<AgentObject<Value>>> {
    let out = state
        .db
        .read(move |conn| match rows::latest(conn, &name)? {
            Some(v) => Ok(AgentObject::new(&name, v)),
            None => Err(ApiError::agent_missing(&name)),
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
            if !rows::delete(tx, &name)? {
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
) -> ApiResult<Json<ListPage<AgentObject<Box<RawValue>>>>> {
    let page = PageParams::from_query(&query, Order::Desc)?;
    let limit = page.limit;
    let rows = state
        .db
        .read(move |conn| {
            let rows = rows::list(conn, &page)?;
            Ok::<_, ApiError>(
                rows.into_iter()
                    .map(|(name, latest)| {
                        let agent = AgentObject::new(&name, latest);
                        (name, agent)
                    })
                    .collect::<Vec<_>>(),
            )
        })
        .await?;
    Ok(Json(envelope(rows, limit, EmptyIds::Absent)))
}

/// `GET /agents/{name}/versions`: default newest first (recorded); cursors are `name:n` ids.
pub async fn list_versions(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Checked { query, .. }: Checked<Project>,
) -> ApiResult<Json<ListPage<Value>>> {
    let page = PageParams::from_query(&query, Order::Desc)?;
    let limit = page.limit;
    let rows = state
        .db
        .read(move |conn| {
            if !rows::exists(conn, &name)? {
                return Err(ApiError::agent_missing(&name));
            }
            Ok(rows::list_versions(conn, &name, &page)?)
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
                Ok(n) => rows::version(conn, &name, n)?,
                Err(_) => None,
            };
            found.ok_or_else(|| ApiError::version_missing(&name, &number))
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
            let deleted = match number.parse::<i64>() {
                Ok(n) => rows::delete_version(tx, &name, n)?,
                Err(_) => false,
            };
            if !deleted {
                return Err(ApiError::version_missing(&name, &number));
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
