//! The Fabrique contracts, generated from `proto/` at build time: one module per proto
//! package (`fabrique::members::v1`, ...) with its messages, enums, gRPC client and
//! server, plus the descriptor set that server reflection serves.

#![allow(clippy::all, missing_docs)]

/// Encoded `FileDescriptorSet` of every Fabrique proto, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/fabrique_descriptor.bin"));

/// A prost-generated enum, through the names prost gives it: every enum of the
/// contracts implements it (the build script writes the impls), so that
/// `fabrique_platform::proto_enum` maps domain enums to them by name.
pub trait ProtoEnum:
    Copy + Eq + Default + std::fmt::Debug + TryFrom<i32> + Into<i32> + Send + Sync + 'static
{
    fn as_str_name(&self) -> &'static str;
    fn from_str_name(name: &str) -> Option<Self>;

    /// `MEMBER_KIND_` for `MemberKind`: the zero value's name without `UNSPECIFIED`.
    fn prefix() -> &'static str {
        let zero = Self::default().as_str_name();
        zero.strip_suffix("UNSPECIFIED").unwrap_or(zero)
    }
}

// `pub mod fabrique { pub mod <service> { pub mod v1 { … } } }` for every
// `fabrique.<service>.v1` package, `pub use fabrique::<service>::v1 as <service>;`, and
// the ProtoEnum impls (build.rs).
include!(concat!(env!("OUT_DIR"), "/fabrique_packages.rs"));
