//! Comments: a participant comments while the active step opens comments, within the
//! rate limit; participants report others' comments, which hide once reported as often
//! as the process says; the organiser restores or removes them.

use fabrique_platform::auth::Caller;
use fabrique_platform::outbox;
use fabrique_platform::page::{self, Page};
use fabrique_platform::{Error, db};
use sea_orm::TransactionTrait;
use uuid::Uuid;

use super::Participation;
use crate::domain::comment::{
    Comment, CommentState, Decision, RATE_WINDOW, comment_name, rate_limit,
};
use crate::domain::{Action, Process};
use crate::events;
use crate::proto::Reader;
use crate::refusal::Refusal;
use crate::store;

impl Participation {
    /// What `caller` may see of `process`'s comments: as moderator (its organiser or an
    /// admin), and the participant they are, if any.
    async fn reader_of(
        &self,
        caller: Option<&Caller>,
        process: &Process,
    ) -> Result<(bool, Option<Uuid>), Error> {
        let Some(caller) = caller else {
            return Ok((false, None));
        };
        let moderator = caller.is_admin() || caller.is_member(process.organiser);
        let participant = match caller.is_citizen() {
            true => store::participant_of(&self.db, &caller.subject)
                .await?
                .map(|p| p.id),
            false => None,
        };
        Ok((moderator, participant))
    }

    async fn comment(&self, process: Uuid, proposal: Uuid, id: Uuid) -> Result<Comment, Error> {
        store::comment::get(&self.db, proposal, id)
            .await?
            .filter(|c| c.process == process)
            .ok_or_else(|| Error::not_found(comment_name(process, proposal, id)))
    }

    /// A participant comments a proposal that is not withdrawn, while comments are
    /// open, at most [`crate::domain::comment::RATE_LIMIT`] times in the window.
    pub async fn create_comment(
        &self,
        caller: &Caller,
        process: Uuid,
        proposal: Uuid,
        body: String,
    ) -> Result<(Comment, Reader), Error> {
        let participant = self.participant(caller).await?;
        let process = self.process(process).await?;
        let proposal = self.proposal(process.id, proposal).await?;
        process.require_open(Action::Comment)?;
        if proposal.state == crate::domain::ProposalState::Withdrawn {
            return Err(Refusal::CommentState {
                comment: proposal.name(),
                rule: "a withdrawn proposal takes no more comments",
            }
            .into());
        }
        let now = fabrique_platform::time::now();
        let recent =
            store::comment::written_since(&self.db, participant.id, now - RATE_WINDOW).await?;
        if let Err(retry_after) = rate_limit(&recent) {
            return Err(Refusal::CommentRateLimited { retry_after }.into());
        }
        let comment = Comment {
            id: Uuid::now_v7(),
            process: process.id,
            proposal: proposal.id,
            author: participant.id,
            author_display_name: participant.display_name.clone(),
            body,
            state: CommentState::Visible,
            reports: 0,
            reviewed: false,
            created_at: now,
            updated_at: now,
        };
        let txn = self.db.begin().await?;
        store::comment::insert(&txn, &comment).await?;
        let event = events::comment_changed(events::COMMENT_PUBLISHED, &process, &comment);
        outbox::enqueue(&txn, vec![event]).await?;
        txn.commit().await?;
        self.outbox.notify();
        let reader = Reader {
            author: true,
            moderator: false,
        };
        Ok((comment, reader))
    }

    /// A proposal's comments, oldest first: public; the queue pending review for its
    /// organiser and admins only.
    pub async fn list_comments(
        &self,
        caller: Option<&Caller>,
        process: Uuid,
        proposal: Uuid,
        pending: bool,
        page_size: u64,
        page_token: &str,
    ) -> Result<Page<(Comment, Reader)>, Error> {
        let process = self.process(process).await?;
        let proposal = self.proposal(process.id, proposal).await?;
        let (moderator, participant) = self.reader_of(caller, &process).await?;
        if pending && !moderator {
            return Err(Error::permission_denied(
                "only the organiser or an admin reads the comments pending review",
            ));
        }
        let fingerprint = page::Fingerprint::new("ListComments")
            .with(proposal.id.as_bytes())
            .with([u8::from(pending)])
            .finish();
        let after = page::decode_id(page_token, fingerprint)?;
        let comments =
            store::comment::list(&self.db, proposal.id, pending, after, page_size + 1).await?;
        let page = Page::of(comments, page_size, fingerprint, |c| c.id);
        Ok(Page {
            items: page
                .items
                .into_iter()
                .map(|c| {
                    let author = participant == Some(c.author);
                    (c, Reader { author, moderator })
                })
                .collect(),
            next_page_token: page.next_page_token,
        })
    }

    /// A participant reports someone else's comment, once; the report that reaches the
    /// process's threshold hides it.
    pub async fn report_comment(
        &self,
        caller: &Caller,
        (process, proposal, id): (Uuid, Uuid, Uuid),
    ) -> Result<(Comment, Reader), Error> {
        let participant = self.participant(caller).await?;
        let process = self.process(process).await?;
        let current = self.comment(process.id, proposal, id).await?;
        let refused = |rule| Refusal::CommentState {
            comment: current.name(),
            rule,
        };
        if current.author == participant.id {
            return Err(refused("one does not report one's own comment").into());
        }
        if current.state == CommentState::Removed {
            return Err(refused("a removed comment was dealt with already").into());
        }
        let now = fabrique_platform::time::now();
        let txn = self.db.begin().await?;
        match store::comment::report(&txn, id, participant.id, process.report_threshold, now).await
        {
            Ok(true) => {
                let mut hidden = current.clone();
                hidden.state = CommentState::Hidden;
                hidden.updated_at = now;
                let event = events::comment_changed(events::COMMENT_HIDDEN, &process, &hidden);
                outbox::enqueue(&txn, vec![event]).await?;
                txn.commit().await?;
                self.outbox.notify();
                tracing::info!(comment = %hidden.name(), "comment hidden pending review");
            }
            Ok(false) => txn.commit().await?,
            Err(error) if db::violates(&error, &store::comment::REPORT_KEY) => {
                txn.rollback().await?;
            }
            Err(error) => {
                let _ = txn.rollback().await;
                return Err(error.into());
            }
        }
        let read = self.comment(process.id, proposal, id).await?;
        Ok((read, Reader::default()))
    }

    /// The organiser (or an admin) restores or removes a comment.
    pub async fn moderate_comment(
        &self,
        caller: &Caller,
        (process, proposal, id): (Uuid, Uuid, Uuid),
        decision: Decision,
    ) -> Result<(Comment, Reader), Error> {
        let process = self.process(process).await?;
        caller.require_admin_or_member(process.organiser, "moderate this process's comments")?;
        let current = self.comment(process.id, proposal, id).await?;
        let now = fabrique_platform::time::now();
        let next = current.decide(decision, now)?;
        let subject = match decision {
            Decision::Restore => events::COMMENT_RESTORED,
            Decision::Remove => events::COMMENT_REMOVED,
        };
        let txn = self.db.begin().await?;
        if !store::comment::decide(&txn, &current, &next).await? {
            txn.rollback().await?;
            return Err(super::changed_meanwhile(&current.name(), false));
        }
        outbox::enqueue(
            &txn,
            vec![events::comment_changed(subject, &process, &next)],
        )
        .await?;
        txn.commit().await?;
        self.outbox.notify();
        let reader = Reader {
            author: false,
            moderator: true,
        };
        Ok((next, reader))
    }
}
