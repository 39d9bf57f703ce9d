//! The `baspa` binary's library half: configuration, the command line, the demo seeder and the
//! wiring of the parts (only this crate knows them all).

pub mod accept;
pub mod audit;
pub mod backup;
pub mod bench;
pub mod cli;
pub mod config;
pub mod demo;
pub mod import;
pub mod import_records;
pub mod journal;
pub mod media;
pub mod report;
pub mod search;
pub mod serve;
pub mod tls;
