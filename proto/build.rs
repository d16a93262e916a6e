//! Compiles `cinder/v1/*.proto` with protox (pure Rust, no system `protoc`).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let descriptors = protox::compile(["cinder/v1/link.proto", "cinder/v1/topics.proto"], ["."])?;
    tonic_prost_build::configure().compile_fds(descriptors)?;
    println!("cargo:rerun-if-changed=cinder/v1/link.proto");
    println!("cargo:rerun-if-changed=cinder/v1/topics.proto");
    Ok(())
}
