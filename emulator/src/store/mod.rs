//! Storage: the SQLite database and the SQL of every surface, one module each, below the HTTP
//! handlers. Nothing here knows HTTP: functions take a connection (or transaction) and plain
//! values, answer "not there" with `None` or `false`, and fail only with [`StoreError`]; the
//! handlers in `api` turn those into the service's status codes and wordings.
//!
//! `db` owns the connection, the schema and the transaction rules; `lookup` and `paging` are
//! the row helpers the surfaces share.

pub mod agents;
pub mod conversations;
pub mod db;
pub mod error;
pub mod items;
pub mod lookup;
pub mod paging;
pub mod stores;
pub mod updates;
