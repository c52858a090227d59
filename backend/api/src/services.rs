//! What the route handlers call: the logic shared by several handlers, between the HTTP edge
//! (`routes`) and storage (`edu_db` functions) or Microsoft Graph (`services::graph`
//! requests). Services never import route modules.

pub mod account_mail;
pub mod admin;
pub mod classes;
pub mod grading;
pub mod graph;
pub mod me;
