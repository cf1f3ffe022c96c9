//! `kind: MemoryStore` → [`model::MemoryStore`].

use crate::model::{self, MemoryStoreName};

use super::super::raw;
use super::common::Checker;

/// Converts a parsed store, recording every problem; `None` when the name itself is unusable
/// (the other fields are still checked).
pub fn convert(
    check: &mut Checker<'_, '_>,
    store: &raw::MemoryStore,
) -> Option<model::MemoryStore> {
    let name = match MemoryStoreName::new(store.metadata.name.value.clone()) {
        Ok(name) => Some(name),
        Err(error) => {
            check.error_hint(
                &store.metadata.name,
                format!("invalid memory store name: {error}"),
                "store names are 1 to 256 characters without whitespace or / ? # : % \\",
            );
            None
        }
    };
    let labels = check.labels(&store.metadata.labels, &store.metadata.name);
    let spec = &store.spec;
    let description = check.description(spec.description.as_ref());
    let chat_model = check.required(&spec.chat_model, "chat_model");
    let embedding_model = check.required(&spec.embedding_model, "embedding_model");
    let options = spec.options.clone().unwrap_or_default();
    let disposable = spec.lifecycle.as_ref().is_some_and(|l| l.disposable);
    if disposable && labels.len() == super::common::MAX_USER_LABELS {
        check.error_hint(
            &store.metadata.name,
            format!(
                "{} labels declared on a disposable store; at most {} are allowed",
                labels.len(),
                super::common::MAX_USER_LABELS - 1
            ),
            format!(
                "a disposable store carries one more foundryctl key, {}, so one label fewer fits \
                 in the service's {} metadata keys",
                crate::model::DISPOSABLE_KEY,
                super::common::MAX_METADATA_KEYS
            ),
        );
    }
    Some(model::MemoryStore {
        name: name?,
        spec: model::MemoryStoreSpec {
            description,
            labels,
            chat_model,
            embedding_model,
            options: model::MemoryStoreOptions {
                user_profile_enabled: options.user_profile_enabled,
                user_profile_details: options.user_profile_details,
                chat_summary_enabled: options.chat_summary_enabled,
                procedural_memory_enabled: options.procedural_memory_enabled,
                default_ttl_seconds: options.default_ttl_seconds,
            },
        },
        disposable,
    })
}
