//! The Fabrique contracts, generated from `proto/` at build time: one module per proto
//! package (`fabrique::members::v1`, ...) with its messages, enums, gRPC client and
//! server, plus the descriptor set that server reflection serves.

#![allow(clippy::all, missing_docs)]

/// Encoded `FileDescriptorSet` of every Fabrique proto, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/fabrique_descriptor.bin"));

pub mod fabrique {
    pub mod members {
        pub mod v1 {
            tonic::include_proto!("fabrique.members.v1");
        }
    }
    pub mod registry {
        pub mod v1 {
            tonic::include_proto!("fabrique.registry.v1");
        }
    }
    pub mod sharing {
        pub mod v1 {
            tonic::include_proto!("fabrique.sharing.v1");
        }
    }
    pub mod projects {
        pub mod v1 {
            tonic::include_proto!("fabrique.projects.v1");
        }
    }
}

pub use fabrique::members::v1 as members;
pub use fabrique::projects::v1 as projects;
pub use fabrique::registry::v1 as registry;
pub use fabrique::sharing::v1 as sharing;
