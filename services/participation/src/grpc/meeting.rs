//! The meetings' list, which `grpc.rs`'s trait method hands on: pages of meetings
//! soonest first, each with the caller's registration.

use fabrique_api::participation as proto;
use fabrique_platform::{auth, page};
use tonic::{Request, Response, Status};

use crate::app::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Participation};
use crate::proto::meeting_to_proto;
use crate::proto::parse_id;

pub(super) async fn list(
    participation: &Participation,
    request: Request<proto::ListMeetingsRequest>,
) -> Result<Response<proto::ListMeetingsResponse>, Status> {
    let caller = auth::maybe_caller(&request);
    let r = request.get_ref();
    let process = parse_id("parent", "processes", &r.parent)?;
    let page_size = page::page_size(r.page_size, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)?;
    let fingerprint = page::Fingerprint::new("ListMeetings")
        .with(&r.parent)
        .finish();
    let skip = page::decode_offset(&r.page_token, fingerprint)?;
    let meetings = participation
        .list_meetings(caller.as_ref(), process, skip, page_size + 1)
        .await?;
    let page = page::Page::at_offset(meetings, skip, page_size, fingerprint);
    Ok(Response::new(proto::ListMeetingsResponse {
        meetings: page
            .items
            .iter()
            .map(|(m, r)| meeting_to_proto(m, r.as_ref()))
            .collect(),
        next_page_token: page.next_page_token,
    }))
}
