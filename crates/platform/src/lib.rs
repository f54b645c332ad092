//! What every Fabrique service stands on: configuration, telemetry, databases and their
//! migrations, the event bus (NATS JetStream or in-process), the transactional outbox and
//! its relay, idempotent consumers, the gRPC server bootstrap, authentication, errors,
//! metrics and page tokens.

#![warn(missing_docs)]

pub mod audit;
pub mod auth;
pub mod batch;
pub mod bus;
pub mod config;
pub mod consumer;
pub mod db;
pub mod dead_letters;
pub mod error;
pub mod event;
pub mod hash;
pub mod metrics;
mod migrations;
pub mod outbox;
pub mod page;
pub mod proto_enum;
pub mod refusal;
pub mod request;
pub mod server;
pub mod service;
pub mod telemetry;
pub mod time;

pub use error::{Error, FieldViolation, Violations};
pub use hash::fnv1a64;
