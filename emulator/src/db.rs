//! SQLite storage: one connection behind a mutex, used from the blocking pool so the async
//! executor threads never wait on disk.
//!
//! Guarantees:
//! - every write runs in one `BEGIN IMMEDIATE` transaction, so a request's changes land together
//!   or not at all, and two processes sharing a file serialise their writes instead of failing;
//! - file databases use WAL with `synchronous=FULL`: once a response is sent its transaction is
//!   on disk, so `kill -9` loses nothing that was acknowledged;
//! - `busy_timeout` makes a second process wait for the lock rather than answer "database is
//!   locked".

use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, Transaction, TransactionBehavior};

use crate::api::error::{ApiError, ApiResult};

/// The schema. Resources are stored as their wire JSON (`body`) beside the columns that queries
/// need; `seq` is the creation order that lists and cursors use.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS stores (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL UNIQUE,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS agents (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    last_version INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS versions (
    agent TEXT NOT NULL,
    version INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (agent, version)
);
CREATE TABLE IF NOT EXISTS items (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    store TEXT NOT NULL,
    scope TEXT NOT NULL,
    memory_id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    content TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS items_by_scope ON items (store, scope, seq);
CREATE TABLE IF NOT EXISTS updates (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    update_id TEXT NOT NULL UNIQUE,
    store TEXT NOT NULL,
    scope TEXT NOT NULL,
    status TEXT NOT NULL,
    items TEXT NOT NULL,
    due_ms INTEGER NOT NULL,
    done_ms INTEGER NOT NULL,
    superseded_by TEXT,
    result TEXT
);
CREATE INDEX IF NOT EXISTS updates_pending ON updates (status, due_ms);
";

/// Why the database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("cannot open the emulator database {path}: {source}")]
    Open {
        path: String,
        source: rusqlite::Error,
    },
    #[error("cannot prepare the emulator database schema: {0}")]
    Schema(rusqlite::Error),
}

/// Shared handle to the one connection.
#[derive(Clone)]
pub struct Db {
    conn: Arc<Mutex<Connection>>,
}

impl Db {
    /// Opens (and creates) a database file, in WAL mode.
    pub fn open_file(path: &Path) -> Result<Db, OpenError> {
        let conn = Connection::open(path).map_err(|source| OpenError::Open {
            path: path.display().to_string(),
            source,
        })?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(OpenError::Schema)?;
        conn.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;")
            .map_err(OpenError::Schema)?;
        Db::init(conn)
    }

    /// An in-memory database, private to this emulator.
    pub fn open_memory() -> Result<Db, OpenError> {
        let conn = Connection::open_in_memory().map_err(|source| OpenError::Open {
            path: ":memory:".to_owned(),
            source,
        })?;
        Db::init(conn)
    }

    fn init(conn: Connection) -> Result<Db, OpenError> {
        conn.execute_batch(SCHEMA).map_err(OpenError::Schema)?;
        Ok(Db {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `f` on the connection in the blocking pool (reads; several statements may run, but
    /// without a transaction they may see different snapshots, which no reader here needs).
    pub async fn read<T, F>(&self, f: F) -> ApiResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> ApiResult<T> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            let guard = conn
                .lock()
                .map_err(|_| ApiError::internal("emulator storage lock poisoned"))?;
            f(&guard)
        })
        .await
        .map_err(|e| ApiError::internal(format!("emulator storage task failed: {e}")))?
    }

    /// Runs `f` inside one immediate transaction, committed only when `f` succeeds.
    pub async fn write<T, F>(&self, f: F) -> ApiResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> ApiResult<T> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            let mut guard = conn
                .lock()
                .map_err(|_| ApiError::internal("emulator storage lock poisoned"))?;
            let tx = guard.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let out = f(&tx)?;
            tx.commit()?;
            Ok(out)
        })
        .await
        .map_err(|e| ApiError::internal(format!("emulator storage task failed: {e}")))?
    }
}
