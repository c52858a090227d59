//! Sets `cfg(edugraph_mysql)` when `EDUGRAPH_TEST_MYSQL_URL` is set at build time, so the
//! MySQL variants of `both_backends!` are compiled as `#[ignore]`d tests without it (the
//! runners list them as skipped) and as ordinary tests with it (failing when the server is
//! unreachable). Cargo rebuilds this crate, and every test crate using it, when the variable
//! changes.

fn main() {
    println!("cargo::rerun-if-env-changed=EDUGRAPH_TEST_MYSQL_URL");
    println!("cargo::rustc-check-cfg=cfg(edugraph_mysql)");
    if std::env::var("EDUGRAPH_TEST_MYSQL_URL").is_ok_and(|v| !v.trim().is_empty()) {
        println!("cargo::rustc-cfg=edugraph_mysql");
    }
}
