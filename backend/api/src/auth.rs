//! Authentication: passwords, sessions, CSRF, throttling.

pub mod csrf;
pub mod password;
pub mod session;
pub mod throttle;
