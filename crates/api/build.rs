//! Compiles every `.proto` under `proto/` with protox (pure Rust, no system `protoc`)
//! into prost messages and tonic clients/servers, and writes the encoded descriptor set
//! that server reflection serves. It also writes `fabrique_packages.rs`: a module per
//! `fabrique.<service>.v1` package with its short alias (`fabrique_api::members`), and
//! the [`ProtoEnum`] impl of every enum, so that a new service's proto needs no line
//! here or in `lib.rs`.

use std::path::{Path, PathBuf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?).join("../../proto");
    let root = root.canonicalize()?;
    let mut files = Vec::new();
    collect_protos(&root, &mut files)?;
    files.sort();
    println!("cargo:rerun-if-changed={}", root.display());
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
    }

    let fds = protox::compile(&files, [&root])?;
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(out.join("fabrique_packages.rs"), packages(&fds))?;
    std::fs::write(
        out.join("fabrique_descriptor.bin"),
        prost::Message::encode_to_vec(&fds),
    )?;
    // Type names let events carry their full proto name as `ce-type`.
    let mut config = tonic_prost_build::Config::new();
    config.enable_type_names();
    tonic_prost_build::configure()
        .emit_rerun_if_changed(false)
        .compile_fds_with_config(fds, config)?;
    Ok(())
}

/// The modules of the `fabrique.<service>.v1` packages, their aliases, and the
/// `ProtoEnum` impls of their enums (top-level ones: ours have no nested enums).
fn packages(fds: &prost_types::FileDescriptorSet) -> String {
    let mut services: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for file in &fds.file {
        let package = file.package();
        let Some(service) = package
            .strip_prefix("fabrique.")
            .and_then(|rest| rest.strip_suffix(".v1"))
        else {
            continue;
        };
        services
            .entry(service.to_string())
            .or_default()
            .extend(file.enum_type.iter().map(|e| e.name().to_string()));
    }
    let mut code = String::from("pub mod fabrique {\n");
    for service in services.keys() {
        code.push_str(&format!(
            "    pub mod {service} {{\n        pub mod v1 {{\n            \
             tonic::include_proto!(\"fabrique.{service}.v1\");\n        }}\n    }}\n"
        ));
    }
    code.push_str("}\n");
    for (service, enums) in &services {
        code.push_str(&format!("pub use fabrique::{service}::v1 as {service};\n"));
        for name in enums {
            code.push_str(&format!(
                "impl crate::ProtoEnum for {service}::{name} {{\n    \
                 fn as_str_name(&self) -> &'static str {{ {service}::{name}::as_str_name(self) }}\n    \
                 fn from_str_name(name: &str) -> Option<Self> {{ {service}::{name}::from_str_name(name) }}\n}}\n"
            ));
        }
    }
    code
}

fn collect_protos(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_protos(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "proto") {
            out.push(path);
        }
    }
    Ok(())
}
