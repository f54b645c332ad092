//! End-to-end tests of the platform over gRPC, PostgreSQL or SQLite, and NATS JetStream
//! or the in-process bus. One binary; each module is one capability.

#![allow(clippy::unwrap_used)] // a test that unwraps fails loudly, which is the point

mod administration;
mod authorization;
mod bad_input;
mod bookings;
mod browser;
mod budgets;
mod cli;
mod co_funding;
mod dead_letters;
mod deploy;
mod dlq;
mod events;
mod faults;
mod funding;
mod group_purchase_race;
mod grouped_purchases;
mod groupings;
mod instructing;
mod instruction;
mod interop;
mod layering;
mod map;
mod meetings;
mod member_space;
mod members_api;
mod migrations;
mod notify;
mod offers;
mod outbox;
mod participation;
mod participation_site;
mod process;
mod projects;
mod published_secrets;
mod registry;
mod scdl;
mod secrets_in_logs;
mod seeded_site;
mod server;
mod sharing;
mod sharing_endings;
mod shutdown;
mod sign_in;
mod sizes;
mod subsidies;
mod support;
mod workshops;
