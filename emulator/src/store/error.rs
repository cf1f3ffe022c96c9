//! The one way storage fails. Every variant is the emulator's own fault (a disk, a lock, a row
//! it wrote itself), never the client's, so `api` answers each with a 500.

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("emulator storage failed: {0}")]
    Sql(rusqlite::Error),
    #[error("emulator storage holds malformed JSON: {0}")]
    Json(serde_json::Error),
    #[error("emulator storage lock poisoned")]
    Poisoned,
    #[error("emulator storage task failed: {0}")]
    Task(String),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Sql(e)
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError::Json(e)
    }
}

/// A storage result.
pub type StoreResult<T> = Result<T, StoreError>;
