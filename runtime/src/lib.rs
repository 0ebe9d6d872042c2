//! The Offer runtime: takes a compiled program and a stream of events, keeps per-customer
//! state, and decides which offers to send. Embeddable as a library; the `offer` CLI and the
//! service are its users.

pub mod decision;
pub mod engine;
pub mod event;
pub mod ingest;
pub mod policy;
pub mod replay;
pub mod series;
pub mod state;
pub mod stats;
pub mod tier;
