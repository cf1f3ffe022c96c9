//! Waiting for `update_memories`: poll until `completed`, `superseded` or `failed` (all three
//! are terminal; waiting only for `completed` hangs on the other two), within a time limit.
//!
//! # Where to poll
//! The 202 carries `Operation-Location`. The recordings show it as an absolute URL on the
//! account host, naming `api-version=2025-11-15-preview` even when the request used `v1`;
//! against the emulator it is the emulator's URL. The rule:
//! - its **api-version is kept** (the service chose it, and recorded polls with it succeed);
//! - its **origin must be the configured endpoint's**. When it names another origin (a proxy
//!   or private endpoint in front of the account, a sanitised or rewritten URL), its path and
//!   query are replayed on the configured endpoint, provided the path lies under the
//!   configured project path; otherwise it is ignored and the poll URL is built from
//!   `update_id`. The bearer token is therefore never sent to a host the user did not name.
//! - without the header, the poll URL is built from `update_id` (the early SDKs did the same).

use std::time::{Duration, Instant};

use reqwest::Url;

use super::client::{Client, LroConfig};
use super::error::ClientError;
use super::transport::retry_after;
use super::wire::{UpdateResponse, UpdateStatus};

/// The URL to poll, per the module rule. Pure, so every case is unit-tested.
pub fn poll_url(endpoint: &Url, operation_location: Option<&str>, fallback: &Url) -> Url {
    let Some(location) = operation_location.and_then(|l| endpoint.join(l.trim()).ok()) else {
        return fallback.clone();
    };
    let project_path = endpoint.path().trim_end_matches('/');
    if location.origin() == endpoint.origin()
        && location.path().starts_with(&format!("{project_path}/"))
    {
        return location;
    }
    // Another origin: replay the part below the project path on the configured endpoint.
    match location.path().find("/memory_stores/") {
        Some(at) if last_segment(&location.path()[..at]) == last_segment(project_path) => {
            let mut url = endpoint.clone();
            url.set_path(&format!("{project_path}{}", &location.path()[at..]));
            url.set_query(location.query());
            url
        }
        _ => fallback.clone(),
    }
}

fn last_segment(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

impl Client {
    /// Polls an update until it reaches a terminal status. `failed` is returned as
    /// [`ClientError::UpdateFailed`]; `completed` and `superseded` as the final answer.
    pub async fn wait_update(
        &self,
        store: &str,
        started: &UpdateResponse,
        operation_location: Option<&str>,
    ) -> Result<UpdateResponse, ClientError> {
        let fallback = self.requests.get_update(store, &started.update_id).url;
        let url = poll_url(self.endpoint(), operation_location, &fallback);
        let spec = self.requests.poll_url(url);
        let begun = Instant::now();
        let mut schedule = PollSchedule::new(&self.lro);
        let mut interval = schedule.next(None);
        let mut last = started.clone();
        loop {
            if last.status.is_terminal() {
                return finish(last);
            }
            if begun.elapsed() + interval > self.lro.timeout {
                return Err(ClientError::UpdateTimeout {
                    update_id: last.update_id,
                    status: last.status.as_str().to_owned(),
                    waited: begun.elapsed(),
                });
            }
            tracing::debug!(
                target: "foundryctl::http",
                "update {} is {}; polling again in {} ms",
                last.update_id,
                last.status.as_str(),
                interval.as_millis()
            );
            tokio::time::sleep(interval).await;
            let resp = self.transport.send(&spec).await?.ok(spec.operation)?;
            let asked = retry_after(&resp.headers, std::time::SystemTime::now());
            last = resp.json(spec.operation)?;
            interval = schedule.next(asked);
        }
    }
}

/// The waits between polls of one update. The service's `Retry-After` (or `retry-after-ms`),
/// when an answer carries one, is the next wait as asked. Otherwise the waits start at
/// `first_interval` and double up to `max_interval`: an update that is already done costs one
/// short wait, not a fixed half second, and one that takes the service's usual seconds costs a
/// handful of polls. (The recorded service sends no `Retry-After` on updates.)
struct PollSchedule {
    next: Duration,
    max: Duration,
}

impl PollSchedule {
    fn new(lro: &LroConfig) -> Self {
        Self {
            next: lro.first_interval.min(lro.max_interval),
            max: lro.max_interval,
        }
    }

    /// The wait before the next poll, given what the last answer asked for.
    fn next(&mut self, asked: Option<Duration>) -> Duration {
        let own = self.next;
        self.next = (own * 2).min(self.max);
        asked.unwrap_or(own)
    }
}

fn finish(update: UpdateResponse) -> Result<UpdateResponse, ClientError> {
    if update.status == UpdateStatus::Failed {
        return Err(ClientError::UpdateFailed {
            update_id: update.update_id,
            error: update.error.map(Box::new),
        });
    }
    Ok(update)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    const FALLBACK: &str = "https://acct.services.ai.azure.com/api/projects/p/memory_stores/s/updates/u?api-version=v1";

    #[test]
    fn same_origin_operation_location_is_used_verbatim_with_its_api_version() {
        let endpoint = url("https://acct.services.ai.azure.com/api/projects/p");
        let loc = "https://acct.services.ai.azure.com/api/projects/p/memory_stores/s/updates/u?api-version=2025-11-15-preview";
        assert_eq!(poll_url(&endpoint, Some(loc), &url(FALLBACK)).as_str(), loc);
    }

    #[test]
    fn another_origin_is_replayed_on_the_configured_endpoint() {
        let endpoint = url("https://proxy.example.com/api/projects/p");
        let loc = "https://acct.services.ai.azure.com/api/projects/p/memory_stores/s/updates/u?api-version=2025-11-15-preview";
        assert_eq!(
            poll_url(&endpoint, Some(loc), &url(FALLBACK)).as_str(),
            "https://proxy.example.com/api/projects/p/memory_stores/s/updates/u?api-version=2025-11-15-preview"
        );
        // The emulator on another port is another origin too.
        let endpoint = url("http://127.0.0.1:4000/api/projects/local");
        let loc =
            "http://127.0.0.1:5000/api/projects/local/memory_stores/s/updates/u?api-version=v1";
        assert_eq!(
            poll_url(&endpoint, Some(loc), &url(FALLBACK)).as_str(),
            "http://127.0.0.1:4000/api/projects/local/memory_stores/s/updates/u?api-version=v1"
        );
    }

    #[test]
    fn a_location_outside_the_project_or_unusable_falls_back_to_the_update_id() {
        let endpoint = url("https://acct.services.ai.azure.com/api/projects/p");
        for loc in [
            "https://evil.example.com/steal",
            "https://example.com",
            "https://acct.services.ai.azure.com/api/projects/other/memory_stores/s/updates/u",
        ] {
            assert_eq!(
                poll_url(&endpoint, Some(loc), &url(FALLBACK)).as_str(),
                FALLBACK,
                "{loc}"
            );
        }
        assert_eq!(poll_url(&endpoint, None, &url(FALLBACK)).as_str(), FALLBACK);
    }

    #[test]
    fn a_relative_location_resolves_against_the_endpoint() {
        let endpoint = url("https://acct.services.ai.azure.com/api/projects/p");
        assert_eq!(
            poll_url(
                &endpoint,
                Some("/api/projects/p/memory_stores/s/updates/u?api-version=v1"),
                &url(FALLBACK)
            )
            .as_str(),
            "https://acct.services.ai.azure.com/api/projects/p/memory_stores/s/updates/u?api-version=v1"
        );
    }

    fn waits(lro: &LroConfig, asked: &[Option<u64>]) -> Vec<u64> {
        let mut schedule = PollSchedule::new(lro);
        asked
            .iter()
            .map(|a| schedule.next(a.map(Duration::from_millis)).as_millis() as u64)
            .collect()
    }

    #[test]
    fn polls_start_short_and_double_up_to_the_limit() {
        let lro = LroConfig::default();
        assert_eq!(
            waits(&lro, &[None; 11]),
            [20, 40, 80, 160, 320, 640, 1280, 2560, 5000, 5000, 5000]
        );
        // An update that is done at once is seen after one short wait: well under 50 ms.
        assert!(waits(&lro, &[None])[0] < 50);
    }

    #[test]
    fn retry_after_is_the_next_wait_as_asked_and_the_doubling_goes_on_beneath_it() {
        let lro = LroConfig::default();
        assert_eq!(
            waits(&lro, &[None, Some(1000), Some(5), None, Some(0), None]),
            [20, 1000, 5, 160, 0, 640]
        );
        let capped = LroConfig {
            first_interval: Duration::from_secs(9),
            max_interval: Duration::from_secs(2),
            ..LroConfig::default()
        };
        assert_eq!(waits(&capped, &[None, None]), [2000, 2000]);
    }

    #[test]
    fn failed_is_an_error_and_superseded_is_not() {
        let failed: UpdateResponse = serde_json::from_str(r#"{"update_id":"u","status":"failed","error":{"code":"x","message":"model unavailable"}}"#).unwrap();
        let e = finish(failed).unwrap_err().to_string();
        assert!(e.contains("update u failed [x]: model unavailable"), "{e}");
        let superseded: UpdateResponse =
            serde_json::from_str(r#"{"update_id":"a","status":"superseded","superseded_by":"b"}"#)
                .unwrap();
        assert!(finish(superseded).is_ok());
    }
}
