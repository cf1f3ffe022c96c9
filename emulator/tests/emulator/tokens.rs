//! The loopback token endpoints and `require_issued_token`, over HTTP as a credential sees them.

use std::time::Duration;

use foundry_emulator::Config;
use foundry_emulator::tokens::{EXCHANGE_AUDIENCE, FOUNDRY_AUDIENCE};
use serde_json::Value;

use crate::common::Env;

const SCOPE: &str = "https://ai.azure.com/.default";

async fn issuing(lifetime: Duration) -> Env {
    Env::with(Config {
        require_token: true,
        require_issued_token: true,
        token_lifetime: lifetime,
        ..Config::default()
    })
    .await
}

/// `POST /{tenant}/oauth2/v2.0/token` with a form body; the status and the JSON answer.
async fn entra(env: &Env, form: &[(&str, &str)]) -> (u16, Value) {
    let body: Vec<String> = form
        .iter()
        .map(|(k, v)| format!("{k}={}", urlencode(v)))
        .collect();
    let host = env.emulator.token_endpoints().unwrap().authority_host;
    let r = env
        .http
        .post(format!("{host}/contoso/oauth2/v2.0/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.join("&"))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

fn urlencode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn id_token(env: &Env, audience: &str, bearer: &str) -> (u16, Value) {
    let url = env.emulator.token_endpoints().unwrap().oidc_request_url;
    let r = env
        .http
        .get(url)
        .query(&[("audience", audience)])
        .bearer_auth(bearer)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

async fn list_agents(env: &Env, token: &str) -> (u16, Value) {
    let r = env
        .http
        .get(format!("{}/agents?api-version=v1", env.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

fn secret_form<'a>(secret: &'a str, scope: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("grant_type", "client_credentials"),
        ("client_id", "app"),
        ("client_secret", secret),
        ("scope", scope),
    ]
}

#[tokio::test]
async fn a_client_secret_buys_an_access_token_the_project_accepts() {
    let env = issuing(Duration::from_secs(3600)).await;
    let secret = env.emulator.token_endpoints().unwrap().client_secret;
    let (status, body) = entra(&env, &secret_form(&secret, SCOPE)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["expires_in"].as_u64().unwrap() >= 3600);
    let token = body["access_token"].as_str().unwrap();
    assert_eq!(list_agents(&env, token).await.0, 200);

    let (status, body) = entra(&env, &secret_form("wrong", SCOPE)).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"], "invalid_client");
    assert_eq!(body["error_codes"][0], 7000215, "{body}");
    let (status, body) = entra(&env, &secret_form(&secret, "https://ai.azure.com")).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_scope"))
    );
}

#[tokio::test]
async fn the_project_refuses_missing_foreign_wrong_audience_and_expired_tokens() {
    let env = issuing(Duration::from_secs(1)).await;
    let other = issuing(Duration::from_secs(3600)).await;
    let (status, body) = list_agents(&env, "any-bearer").await;
    assert_eq!(status, 401);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not a JWT this emulator issued"),
        "{body}"
    );
    let foreign = other.emulator.issue_access_token(FOUNDRY_AUDIENCE).unwrap();
    assert_eq!(list_agents(&env, &foreign).await.0, 401);
    let wrong = env
        .emulator
        .issue_access_token("https://management.azure.com")
        .unwrap();
    let (status, body) = list_agents(&env, &wrong).await;
    assert_eq!(status, 401);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("audience"),
        "{body}"
    );

    let short = env.emulator.issue_access_token(FOUNDRY_AUDIENCE).unwrap();
    assert_eq!(list_agents(&env, &short).await.0, 200);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let (status, body) = list_agents(&env, &short).await;
    assert_eq!(status, 401);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("expired"),
        "{body}"
    );
}

#[tokio::test]
async fn a_github_style_id_token_is_a_client_assertion_and_nothing_else() {
    let env = issuing(Duration::from_secs(3600)).await;
    let endpoints = env.emulator.token_endpoints().unwrap();
    assert_eq!(id_token(&env, EXCHANGE_AUDIENCE, "wrong").await.0, 401);
    let (status, body) = id_token(&env, EXCHANGE_AUDIENCE, &endpoints.oidc_request_token).await;
    assert_eq!(status, 200);
    let assertion = body["value"].as_str().unwrap().to_owned();
    // An ID token is not an access token for the project.
    assert_eq!(list_agents(&env, &assertion).await.0, 401);

    let form = |assertion: &str| {
        vec![
            ("grant_type".to_owned(), "client_credentials".to_owned()),
            ("client_id".to_owned(), "app".to_owned()),
            ("client_assertion".to_owned(), assertion.to_owned()),
            (
                "client_assertion_type".to_owned(),
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_owned(),
            ),
            ("scope".to_owned(), SCOPE.to_owned()),
        ]
    };
    let send = |f: Vec<(String, String)>| {
        let env = &env;
        async move {
            let refs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            entra(env, &refs).await
        }
    };
    let (status, body) = send(form(&assertion)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        list_agents(&env, body["access_token"].as_str().unwrap())
            .await
            .0,
        200
    );
    // For the wrong audience, or from another emulator's issuer: refused.
    let (_, other_aud) = id_token(
        &env,
        "https://github.com/octo-org",
        &endpoints.oidc_request_token,
    )
    .await;
    let (status, body) = send(form(other_aud["value"].as_str().unwrap())).await;
    assert_eq!(status, 401);
    assert_eq!(body["error_codes"][0], 700212, "{body}");
    let other = issuing(Duration::from_secs(3600)).await;
    let foreign_endpoints = other.emulator.token_endpoints().unwrap();
    let (_, foreign) = id_token(
        &other,
        EXCHANGE_AUDIENCE,
        &foreign_endpoints.oidc_request_token,
    )
    .await;
    let (status, _) = send(form(foreign["value"].as_str().unwrap())).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn without_require_issued_token_any_bearer_still_works_and_token_routes_skip_the_check() {
    let env = Env::with(Config {
        require_token: true,
        ..Config::default()
    })
    .await;
    assert_eq!(list_agents(&env, "anything").await.0, 200);
    let secret = env.emulator.token_endpoints().unwrap().client_secret;
    // The token endpoint itself needs no bearer even when the project does.
    assert_eq!(entra(&env, &secret_form(&secret, SCOPE)).await.0, 200);
}

/// With a per-run access secret, every route (the project's and the token endpoints) answers
/// 401 unless the request carries exactly that secret as its bearer token.
#[tokio::test]
async fn an_access_secret_guards_every_route() {
    let secret = foundry_emulator::tokens::access_secret();
    assert!(secret.len() >= 40);
    assert_ne!(secret, foundry_emulator::tokens::access_secret());
    let env = Env::with(Config {
        access_secret: Some(secret.clone()),
        ..Config::default()
    })
    .await;
    let stores = format!("{}/memory_stores?api-version=v1", env.base);
    let status = |r: reqwest::Response| r.status().as_u16();
    let none = env.http.get(&stores).send().await.unwrap();
    assert_eq!(status(none), 401);
    // The secret with its last character changed (a secret that already ended in `x` made
    // this the secret itself, about one run in sixty).
    let last = if secret.ends_with('x') { 'y' } else { 'x' };
    let wrong = env
        .http
        .get(&stores)
        .bearer_auth(format!("{}{last}", &secret[..secret.len() - 1]))
        .send()
        .await
        .unwrap();
    assert_eq!(status(wrong), 401);
    let host = env.emulator.token_endpoints().unwrap().authority_host;
    let token = env
        .http
        .post(format!("{host}/contoso/oauth2/v2.0/token"))
        .send()
        .await
        .unwrap();
    assert_eq!(status(token), 401);
    let right = env
        .http
        .get(&stores)
        .header("Foundry-Features", crate::common::FF)
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(status(right), 200);
}
