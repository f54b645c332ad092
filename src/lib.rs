//! The `fabrique` binary's library side: the one list of services every deployment
//! shape runs ([`services`]), and what is derived from it for the Kubernetes manifests
//! ([`nats_conf`]). Tests use both.

pub mod nats_conf;
pub mod services;
