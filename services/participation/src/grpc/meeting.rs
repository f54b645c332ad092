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
    let skip = match r.page_token.as_str() {
        "" => 0,
        token => {
            let bytes: [u8; 8] = page::decode(token, fingerprint)?.try_into().map_err(|_| {
                fabrique_platform::Error::invalid(
                    "page_token",
                    "is not a page token of this method",
                )
            })?;
            u64::from_le_bytes(bytes)
        }
    };
    let mut meetings = participation
        .list_meetings(caller.as_ref(), process, skip, page_size + 1)
        .await?;
    let next_page_token = if meetings.len() as u64 > page_size {
        meetings.truncate(page_size as usize);
        page::encode(fingerprint, &(skip + page_size).to_le_bytes())
    } else {
        String::new()
    };
    Ok(Response::new(proto::ListMeetingsResponse {
        meetings: meetings
            .iter()
            .map(|(m, r)| meeting_to_proto(m, r.as_ref()))
            .collect(),
        next_page_token,
    }))
}
