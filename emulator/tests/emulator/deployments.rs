use foundry_emulator::{Config, Deployment};
use serde_json::{Value, json};

use crate::common::Env;

fn names(page: &Value) -> Vec<String> {
    page["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_default_project_deploys_the_models_the_examples_name() {
    let env = Env::start().await;
    let r = env.get("/deployments?api-version=v1").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        names(&r.body),
        ["gpt-4.1-mini", "text-embedding-3-large", "gpt-4.1-nano"]
    );
    assert!(r.body.get("nextLink").is_none(), "{}", r.body);
    let d = &r.body["value"][1];
    assert_eq!(d["type"], "ModelDeployment");
    assert_eq!(d["modelName"], "text-embedding-3-large");
    assert_eq!(d["capabilities"], json!({"embeddings": "true"}));
    for key in ["modelVersion", "modelPublisher", "sku"] {
        assert!(d.get(key).is_some(), "{key} missing from {d}");
    }
    // Every model the example manifests name by default is deployed.
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../manifests");
    let mut checked = 0;
    for file in [
        "seed/seed.yaml",
        "workshop/stores.yaml",
        "workshop/agents.yaml",
    ] {
        let text = std::fs::read_to_string(root.join(file)).unwrap();
        let models = text
            .lines()
            .filter(|l| {
                l.trim_start()
                    .split(':')
                    .next()
                    .is_some_and(|k| k.ends_with("model"))
            })
            .filter_map(|l| {
                let inner = l.split_once("${")?.1.split('}').next()?;
                Some(inner.split_once(":-")?.1.to_owned())
            });
        for default in models {
            assert!(
                names(&r.body).contains(&default),
                "{file} names {default}, which the default project does not deploy"
            );
            checked += 1;
        }
    }
    assert!(
        checked >= 8,
        "only {checked} model fields found in the manifests"
    );
}

#[tokio::test]
async fn configured_deployments_are_listed_in_pages_and_filtered() {
    let deployments: Vec<Deployment> = (0..45)
        .map(|i| {
            format!(
                "d{i:02}={}",
                if i % 3 == 0 {
                    "text-embedding-3-small"
                } else {
                    "gpt-4o"
                }
            )
            .parse()
            .unwrap()
        })
        .collect();
    let env = Env::with(Config {
        deployments,
        ..Config::default()
    })
    .await;
    let mut seen = Vec::new();
    let mut url = format!("{}/deployments?api-version=v1", env.base);
    let mut pages = 0;
    loop {
        let page: Value = env
            .http
            .get(&url)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        pages += 1;
        seen.extend(names(&page));
        match page["nextLink"].as_str() {
            Some(next) => url = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let expected: Vec<String> = (0..45).map(|i| format!("d{i:02}")).collect();
    assert_eq!(seen, expected);

    let r = env
        .get("/deployments?api-version=v1&modelName=text-embedding-3-small")
        .await;
    assert_eq!(names(&r.body).len(), 15);
    assert!(
        r.body["value"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["modelName"] == "text-embedding-3-small")
    );
    let r = env.get("/deployments/d01?api-version=v1").await;
    assert_eq!(r.body["modelName"], "gpt-4o");
    let r = env.get("/deployments/nope?api-version=v1").await;
    assert_eq!(r.status, 404);
    assert_eq!(r.body["error"]["code"], "not_found");
    let r = env.get("/deployments").await;
    assert_eq!(
        r.status, 400,
        "api-version is required as on every project route"
    );
}
