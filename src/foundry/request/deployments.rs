//! The deployments surface of [`Requests`]: `GET /deployments`, paged Azure-style with
//! `nextLink`.

use reqwest::{Method, Url};

use super::{Idempotency, RequestSpec, Requests};

impl Requests {
    /// A page of the project's model deployments: the first (`next` is `None`), or the one a
    /// `nextLink` names. Only the link's query (its cursor) is kept, on this project's own
    /// `/deployments` URL: a link the service hands back can never send the token elsewhere.
    pub fn list_deployments(&self, next: Option<&Url>) -> RequestSpec {
        let mut url = self.url(&["deployments"], &[], None);
        let mut pairs: Vec<(String, String)> = next
            .map(|link| {
                link.query_pairs()
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect()
            })
            .unwrap_or_default();
        if !pairs.iter().any(|(k, _)| k == "api-version") {
            pairs.push(("api-version".to_owned(), self.api.as_str().to_owned()));
        }
        url.query_pairs_mut().extend_pairs(pairs);
        RequestSpec {
            operation: "list deployments",
            method: Method::GET,
            url,
            headers: Vec::new(),
            body: None,
            idempotency: Idempotency::Idempotent,
        }
    }
}
