//! Compiles the echo contract of the baseline server with protox (no system `protoc`).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let file = "proto/fabrique/bench/v1/echo.proto";
    println!("cargo:rerun-if-changed={file}");
    let fds = protox::compile([file], ["proto"])?;
    tonic_prost_build::configure()
        .emit_rerun_if_changed(false)
        .compile_fds(fds)?;
    Ok(())
}
