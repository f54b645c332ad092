//! Claims to messages, and a new claim's request parsed.

use fabrique_api::sharing as proto;
use fabrique_platform::proto_enum::ProtoMapped;
use fabrique_platform::request;
use fabrique_platform::time::timestamp;
use fabrique_platform::{Error, Violations};
use uuid::Uuid;

use super::quantity;
use crate::domain::{Claim, Invalid, Milli, member_name, parse_resource_name};

impl From<&Claim> for proto::Claim {
    fn from(c: &Claim) -> Self {
        proto::Claim {
            name: c.name(),
            claimant: member_name(c.claimant),
            quantity: Some(quantity(c.quantity, c.unit)),
            state: c.state.to_proto_i32(),
            create_time: Some(timestamp(c.created_at)),
            update_time: Some(timestamp(c.updated_at)),
            answer_time: c.answer_by.map(timestamp),
        }
    }
}

/// The resource, the amount and the request id of a new claim, every invalid field
/// reported at once.
pub fn parse_claim_request(
    r: &proto::CreateClaimRequest,
) -> Result<(Uuid, Milli, Option<Uuid>), Error> {
    let mut v = Violations::new();
    let resource = v.check("parent", parse_resource_name(&r.parent));
    let amount = v.check("amount", Milli::parse_positive(r.amount));
    let request_id = v.check(
        "request_id",
        request::request_id("request_id", &r.request_id).map_err(|e| Invalid::new(e.to_string())),
    );
    v.into_result()?;
    match (resource, amount, request_id) {
        (Some(resource), Some(amount), Some(request_id)) => Ok((resource, amount, request_id)),
        _ => Err(Error::internal(
            "claim parsed without violations but incomplete",
        )),
    }
}
