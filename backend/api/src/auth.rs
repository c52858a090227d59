//! Authentication: passwords, sessions, CSRF, throttling.

pub mod class_access;
pub mod csrf;
pub mod password;
pub mod roles;
pub mod session;
pub mod throttle;
