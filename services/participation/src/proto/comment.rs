//! Comments in and out of the contract.

use fabrique_api::participation as proto;
use fabrique_platform::Error;
use fabrique_platform::proto_enum::ProtoMapped;
use fabrique_platform::time::timestamp;

use crate::domain::comment::{Comment, CommentState, Decision};

fabrique_platform::proto_mapped!(
    CommentState => proto::CommentState,
    Decision => proto::ModerationDecision,
);

/// Who reads a comment, which decides what they see of it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Reader {
    /// They wrote it: they read its body whatever its state.
    pub author: bool,
    /// The process's organiser or an admin: the body and the reports.
    pub moderator: bool,
}

/// A comment as `reader` reads it: a hidden or removed one without its body but to its
/// author and moderators; the reports to moderators only.
pub fn comment_to_proto(c: &Comment, reader: Reader) -> proto::Comment {
    let shown = c.state == CommentState::Visible || reader.author || reader.moderator;
    proto::Comment {
        name: c.name(),
        body: if shown { c.body.clone() } else { String::new() },
        author_display_name: c.author_display_name.clone(),
        authored_by_caller: reader.author,
        state: c.state.to_proto_i32(),
        report_count: if reader.moderator {
            c.reports as i32
        } else {
            0
        },
        reviewed: c.reviewed,
        create_time: Some(timestamp(c.created_at)),
        update_time: Some(timestamp(c.updated_at)),
    }
}

/// The organiser's decision.
pub fn parse_decision(value: i32) -> Result<Decision, Error> {
    Decision::from_proto(value).map_err(|invalid| Error::invalid("decision", invalid.0))
}

#[cfg(test)]
mod tests {
    use fabrique_platform::proto_enum::assert_round_trip;

    use super::*;

    #[test]
    fn comment_enums_map_both_ways_by_name() {
        assert_round_trip::<CommentState>();
        assert_round_trip::<Decision>();
    }
}
