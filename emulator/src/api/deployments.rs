//! Model deployments of the project: `GET /deployments` and `GET /deployments/{name}`, read
//! only, from [`crate::Config::deployments`].
//!
//! The shape follows the SDK's `Deployment` model (azure-ai-projects): `{name, type:
//! "ModelDeployment", modelName, modelVersion, modelPublisher, capabilities, sku}`. Paging is
//! Azure-style, not the OpenAI-style envelope of agents and stores: `{"value": [...],
//! "nextLink": "..."}`, the link absent on the last page. No recording shows this surface; the
//! values the emulator fills in (version, capabilities, SKU) are plausible, not the service's.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Value, json};

use super::error::{ApiError, ApiResult};
use super::request::{Checked, Project};
use super::state::AppState;
use crate::config::Deployment;

/// Deployments per page (`nextLink` leads to the next).
pub const PAGE_SIZE: usize = 20;

/// The filters the SDK sends, by query name, with the wire field each matches.
const FILTERS: [(&str, &str); 3] = [
    ("modelPublisher", "modelPublisher"),
    ("modelName", "modelName"),
    ("deploymentType", "type"),
];

/// One deployment in its wire shape.
fn wire(d: &Deployment) -> Value {
    let embedding = d.model.contains("embedding");
    let capabilities = if embedding {
        json!({"embeddings": "true"})
    } else {
        json!({"chat_completion": "true"})
    };
    json!({
        "name": d.name,
        "type": "ModelDeployment",
        "modelName": d.model,
        "modelVersion": "1",
        "modelPublisher": "OpenAI",
        "capabilities": capabilities,
        "sku": {"name": "GlobalStandard", "capacity": 100, "family": "", "size": "", "tier": "Standard"},
    })
}

/// `GET /deployments`: the deployments matching the filters, [`PAGE_SIZE`] per page, from
/// `skip` (the cursor `nextLink` carries).
pub async fn list(
    State(state): State<AppState>,
    Checked { query, .. }: Checked<Project>,
) -> ApiResult<Json<Value>> {
    let skip = match query.get("skip") {
        None => 0,
        Some(raw) => raw.parse::<usize>().map_err(|_| {
            ApiError::invalid("skip", format!("Invalid value for 'skip': '{raw}'."))
        })?,
    };
    let matching: Vec<Value> = state
        .deployments
        .iter()
        .map(wire)
        .filter(|d| {
            FILTERS.iter().all(|(param, field)| {
                query
                    .get(*param)
                    .is_none_or(|want| d[*field].as_str() == Some(want.as_str()))
            })
        })
        .collect();
    let page: Vec<Value> = matching
        .iter()
        .skip(skip)
        .take(PAGE_SIZE)
        .cloned()
        .collect();
    let mut out = json!({"value": page});
    if skip + PAGE_SIZE < matching.len() {
        out["nextLink"] = json!(next_link(&state.endpoint, &query, skip + PAGE_SIZE));
    }
    Ok(Json(out))
}

/// The absolute link to the page starting at `skip`, keeping the request's other parameters.
fn next_link(endpoint: &str, query: &HashMap<String, String>, skip: usize) -> String {
    let mut params: Vec<(String, String)> = query
        .iter()
        .filter(|(k, _)| k.as_str() != "skip")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    params.sort();
    params.push(("skip".to_owned(), skip.to_string()));
    let encoded: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect();
    format!("{endpoint}/deployments?{}", encoded.join("&"))
}

/// Percent-encodes a query component (unreserved characters stay as they are).
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `GET /deployments/{name}`.
pub async fn get(
    State(state): State<AppState>,
    Path(name): Path<String>,
    _: Checked<Project>,
) -> ApiResult<Json<Value>> {
    state
        .deployments
        .iter()
        .find(|d| d.name == name)
        .map(|d| Json(wire(d)))
        .ok_or_else(|| ApiError::not_found(format!("Deployment '{name}' not found")))
}
