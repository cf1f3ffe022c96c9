//! A running emulator plus a tiny raw-HTTP client for the tests.

use foundry_emulator::{Config, Emulator};
use serde_json::Value;

pub const FF: &str = "MemoryStores=V1Preview";

pub struct Env {
    pub emulator: Emulator,
    pub http: reqwest::Client,
    pub base: String,
}

/// What a request returned.
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Env {
    pub async fn start() -> Env {
        Env::with(Config::default()).await
    }

    pub async fn with(config: Config) -> Env {
        let emulator = Emulator::start(config).await.expect("emulator starts");
        let base = emulator.endpoint();
        Env {
            emulator,
            http: reqwest::Client::new(),
            base,
        }
    }

    /// Sends `method path` (path relative to the project endpoint, with its query string),
    /// with the v1 memory feature header when `ff` is set.
    pub async fn call(&self, method: &str, path: &str, body: Option<Value>, ff: bool) -> Reply {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self.http.request(method, format!("{}{}", self.base, path));
        if ff {
            req = req.header("Foundry-Features", FF);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request sent");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
        };
        Reply {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.call("GET", path, None, true).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.call("POST", path, Some(body), true).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.call("DELETE", path, None, true).await
    }
}

/// Creates a store named `name` (v1) and returns its id.
pub async fn create_store(env: &Env, name: &str) -> String {
    let r = env
        .post(
            "/memory_stores?api-version=v1",
            serde_json::json!({"name": name, "definition": {"kind": "default", "chat_model": "gpt-4.1-mini", "embedding_model": "text-embedding-3-large"}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["id"].as_str().unwrap().to_owned()
}

/// The `data[].<key>` strings of a list envelope.
pub fn ids(body: &Value, key: &str) -> Vec<String> {
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v[key].as_str().unwrap().to_owned())
        .collect()
}
