//! Value types shared by the services' domains. Each parses, and refuses with an
//! [`Invalid`] saying why in words for the caller (the gRPC layer adds the field path):
//! once a value exists, it is valid.
//!
//! - [`text`] — bounded text, accent-insensitive folding;
//! - [`france`] — SIREN, SIRET, INSEE commune and department codes, postal codes;
//! - [`web`] — website URLs, e-mail addresses, phone numbers;
//! - [`geo`] — WGS84 coordinates, great-circle distances, bounding boxes;
//! - [`resource`] — AIP-122 resource names such as `members/{id}`;
//! - [`change`] — etags and partial updates;
//! - [`fr`] — French formats for what people read (dates, amounts, Paris time).

pub mod change;
pub mod enums;
pub mod fr;
pub mod france;
pub mod geo;
pub mod resource;
pub mod text;
pub mod web;

pub use enums::NamedEnum;
pub use france::{Department, InseeCode, PostalCode, Siren, Siret};
pub use geo::{BoundingBox, Location};
pub use text::{Invalid, bounded_text, fold, optional_text};
pub use web::{Email, Phone, Website};
