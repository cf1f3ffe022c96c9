//! The project's model deployments, for the preflight that checks every model a manifest
//! names (`chat_model`, `embedding_model`, an agent's `model`) is deployed.

use std::collections::BTreeSet;

use reqwest::Url;
use serde::Deserialize;

use super::{Client, ClientError};

/// Pages followed at most: a service that keeps linking is an error, not an endless read.
const MAX_PAGES: usize = 1_000;

/// One page of `GET /deployments`: Azure-style, `{value, nextLink?}`.
#[derive(Debug, Deserialize)]
struct Page {
    #[serde(default)]
    value: Vec<Deployment>,
    #[serde(rename = "nextLink", default)]
    next_link: Option<String>,
}

/// A deployment; only its name matters here (a manifest names deployments, not models).
#[derive(Debug, Deserialize)]
struct Deployment {
    name: String,
}

/// What the project says about its deployments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deployments {
    /// The names of every deployment.
    Listed(BTreeSet<String>),
    /// The identity may not list them (403); the preflight is skipped.
    NotAllowed,
}

impl Client {
    /// Every deployment of the project, following `nextLink` to the last page. A 403 is
    /// [`Deployments::NotAllowed`]; any other failure is an error.
    pub async fn list_deployments(&self) -> Result<Deployments, ClientError> {
        let mut names = BTreeSet::new();
        let mut next: Option<Url> = None;
        for _ in 0..MAX_PAGES {
            let spec = self.requests.list_deployments(next.as_ref());
            let page: Page = match self.call(&spec).await {
                Ok(page) => page,
                Err(ClientError::Forbidden { .. }) => return Ok(Deployments::NotAllowed),
                Err(e) => return Err(e),
            };
            names.extend(page.value.into_iter().map(|d| d.name));
            let Some(link) = page.next_link.filter(|l| !l.is_empty()) else {
                return Ok(Deployments::Listed(names));
            };
            let link = Url::parse(&link).map_err(|_| ClientError::MalformedPage {
                operation: "list deployments",
                reason: format!("its nextLink {link:?} is not a URL"),
            })?;
            if next.as_ref() == Some(&link) {
                return Err(ClientError::MalformedPage {
                    operation: "list deployments",
                    reason: "its nextLink points at the same page again".to_owned(),
                });
            }
            next = Some(link);
        }
        Err(ClientError::MalformedPage {
            operation: "list deployments",
            reason: format!("more than {MAX_PAGES} pages"),
        })
    }
}
