//! The `fabrique` binary's library side: the one list of services every deployment
//! shape runs ([`services`]), and what is derived from it for the Kubernetes manifests
//! ([`deploy_files`], [`nats_conf`]). Tests use them.

pub mod deploy_files;
pub mod nats_conf;
pub mod services;
