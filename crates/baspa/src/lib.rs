//! The `baspa` binary's library half: configuration, the command line, the demo seeder and the
//! wiring of the parts (only this crate knows them all).

pub mod audit;
pub mod bench;
pub mod cli;
pub mod config;
pub mod demo;
pub mod import;
pub mod journal;
pub mod search;
pub mod serve;
pub mod tls;
