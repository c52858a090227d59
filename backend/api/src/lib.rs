//! EduGraph's HTTP API as a library: [`startup::Application`] builds the whole app on any
//! port, so the `edugraph` binary and the tests start exactly the same thing.

pub mod auth;
pub mod clock;
pub mod config;
pub mod cursor;
pub mod error;
pub mod ids;
pub mod jobs;
pub mod keys;
pub mod mail;
pub mod metrics;
pub mod microsoft;
pub mod middleware;
pub mod openapi;
pub mod photos;
pub mod routes;
pub mod services;
pub mod spa;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod token_cache;

pub use config::Config;
pub use startup::Application;
