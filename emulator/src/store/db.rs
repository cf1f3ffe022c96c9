//! SQLite storage: one connection behind a mutex, used from the blocking pool so the async
//! executor threads never wait on disk.
//!
//! Guarantees:
//! - every write runs in one `BEGIN IMMEDIATE` transaction, so a request's changes land together
//!   or not at all, and two processes sharing a file serialise their writes instead of failing;
//! - file databases use WAL with `synchronous=FULL`: once a response is sent its transaction is
//!   on disk, so `kill -9` loses nothing that was acknowledged;
//! - `busy_timeout` makes a second process wait for the lock rather than answer "database is
//!   locked"; opening retries the one step SQLite does not cover with it (see [`enable_wal`]).
//!
//! `tests/emulator_durability.rs` (root package) shows the last three on real processes.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rusqlite::{Connection, Transaction, TransactionBehavior};

use crate::store::error::StoreError;

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
CREATE TABLE IF NOT EXISTS conversations (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS conversation_items (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation TEXT NOT NULL,
    item_id TEXT NOT NULL UNIQUE,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS conversation_items_in_order ON conversation_items (conversation, seq);
";

/// Why the database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("cannot open the emulator database {path}: {source}")]
    Open {
        path: String,
        source: rusqlite::Error,
    },
    #[error("cannot switch the emulator database to WAL mode: {0}")]
    Wal(rusqlite::Error),
    #[error(
        "cannot switch the emulator database to WAL mode: it stayed in {mode:?} mode \
         (is it on a file system without shared memory, such as a network share?)"
    )]
    NotWal { mode: String },
    #[error("cannot prepare the emulator database schema: {0}")]
    Schema(rusqlite::Error),
}

/// How long a process waits for another one holding the file's write lock, when opening and
/// on every write. Writes here take milliseconds, so only a stuck process exhausts it.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if matches!(f.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked))
}

/// Puts the file in WAL mode (a no-op once it is). Converting a new file takes an exclusive
/// lock *without* consulting the busy handler when another connection holds a lock, so two
/// processes opening a fresh directory at the same moment saw "database is locked" here (4
/// starts in 120 in a shell loop); this retries for up to [`BUSY_TIMEOUT`] instead.
fn enable_wal(conn: &Connection) -> Result<(), OpenError> {
    let deadline = Instant::now() + BUSY_TIMEOUT;
    loop {
        match conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get::<_, String>(0)) {
            Ok(mode) if mode.eq_ignore_ascii_case("wal") => return Ok(()),
            Ok(mode) => return Err(OpenError::NotWal { mode }),
            Err(e) if is_busy(&e) && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(5 + fastrand::u64(..20)));
            }
            Err(e) => return Err(OpenError::Wal(e)),
        }
    }
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
        conn.busy_timeout(BUSY_TIMEOUT).map_err(OpenError::Schema)?;
        enable_wal(&conn)?;
        conn.execute_batch("PRAGMA synchronous=FULL;")
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

    /// Creates the tables in one immediate transaction: it waits (busy handler) for a process
    /// creating them at the same time, and a process killed halfway leaves none behind.
    fn init(mut conn: Connection) -> Result<Db, OpenError> {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(OpenError::Schema)?;
        tx.execute_batch(SCHEMA).map_err(OpenError::Schema)?;
        tx.commit().map_err(OpenError::Schema)?;
        Ok(Db {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `f` on the connection in the blocking pool (reads; several statements may run, but
    /// without a transaction they may see different snapshots, which no reader here needs).
    /// `f` may fail with the caller's own error type, which storage failures convert into.
    pub async fn read<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&Connection) -> Result<T, E> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            let guard = conn.lock().map_err(|_| StoreError::Poisoned)?;
            f(&guard)
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
    }

    /// Runs `f` inside one immediate transaction, committed only when `f` succeeds.
    pub async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&Transaction<'_>) -> Result<T, E> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().map_err(|_| StoreError::Poisoned)?;
            let tx = guard
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(StoreError::from)?;
            let out = f(&tx)?;
            tx.commit().map_err(StoreError::from)?;
            Ok(out)
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression: another process holding the lock of a fresh file (still in rollback mode)
    /// made the WAL switch fail at once with "database is locked", whatever the busy timeout.
    #[test]
    fn opening_waits_for_another_process_locking_a_fresh_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("emulator.db");
        let other = Connection::open(&path).unwrap();
        other
            .execute_batch("CREATE TABLE t (x); BEGIN; INSERT INTO t VALUES (1);")
            .unwrap();
        let writer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            other.execute_batch("COMMIT").unwrap();
        });
        let started = Instant::now();
        let db = Db::open_file(&path).expect("opening waits for the lock instead of failing");
        writer.join().unwrap();
        assert!(started.elapsed() >= Duration::from_millis(200));
        let conn = db.conn.lock().unwrap();
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
    }
}
