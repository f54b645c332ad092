//! The instruction of applications: the programme's operator (or its funder, or an
//! admin) sends an application back to its applicant to complete, gives its opinion
//! and keeps private notes; the applicant completes it; the funder decides (in
//! `programme.rs`). What applicants read of their applications leaves the instruction
//! out ([`Projects::shown_to`]).

use fabrique_platform::Error;
use fabrique_platform::auth::Caller;
use fabrique_platform::time::now;
use uuid::Uuid;

use super::Projects;
use crate::domain::{
    Application, ApplicationTransition, Instruction, Note, Programme, Recommendation,
};

impl Projects {
    /// Whether `caller` instructs the programme's applications: an admin, its funder or
    /// its operator.
    pub fn instructs(caller: &Caller, programme: &Programme) -> bool {
        caller.is_admin()
            || caller
                .member_id
                .is_some_and(|m| caller.is_member(m) && programme.instructed_by(m))
    }

    /// `application` as `caller` may read it: without the instructors' opinion and
    /// notes unless it instructs the programme.
    pub fn shown_to(
        caller: &Caller,
        programme: &Programme,
        mut application: Application,
    ) -> Application {
        if !Self::instructs(caller, programme) {
            application.instruction = Instruction::default();
        }
        application
    }

    fn require_instructor(
        caller: &Caller,
        programme: &Programme,
        action: &str,
    ) -> Result<(), Error> {
        if Self::instructs(caller, programme) {
            return Ok(());
        }
        Err(Error::permission_denied(format!(
            "only the programme's funder or operator, or an admin, may {action}"
        )))
    }

    /// Sends a submitted application back to its applicant with what to complete.
    pub async fn request_completion(
        &self,
        caller: &Caller,
        programme_id: Uuid,
        id: Uuid,
        message: String,
    ) -> Result<Application, Error> {
        let (current, programme) = self.get_application(caller, programme_id, id).await?;
        Self::require_instructor(caller, &programme, "ask to complete an application")?;
        let transition = ApplicationTransition::RequestCompletion { message };
        Ok(self
            .move_application(&current, &programme, transition)
            .await??)
    }

    /// The applicant completes its application (its answer, its purpose if changed):
    /// submitted again. What it gets back leaves the instruction out.
    pub async fn complete(
        &self,
        caller: &Caller,
        programme_id: Uuid,
        id: Uuid,
        answer: String,
        purpose: Option<String>,
    ) -> Result<Application, Error> {
        let (current, programme) = self.get_application(caller, programme_id, id).await?;
        caller.require_admin_or_member(current.applicant, "complete this application")?;
        let transition = ApplicationTransition::Complete { answer, purpose };
        let completed = self
            .move_application(&current, &programme, transition)
            .await??;
        Ok(Self::shown_to(caller, &programme, completed))
    }

    /// The operator's opinion and recommendation (or the funder's when the programme has
    /// no operator, or an admin's); the funder decides.
    pub async fn record_opinion(
        &self,
        caller: &Caller,
        programme_id: Uuid,
        id: Uuid,
        recommendation: Recommendation,
        opinion: String,
    ) -> Result<Application, Error> {
        let (current, programme) = self.get_application(caller, programme_id, id).await?;
        let giver = programme.operator.unwrap_or(programme.funder);
        caller.require_admin_or_member(giver, "give the instruction's opinion")?;
        let transition = ApplicationTransition::Opinion {
            recommendation,
            opinion,
            instructor: caller.member_id.filter(|m| caller.is_member(*m)),
        };
        Ok(self
            .move_application(&current, &programme, transition)
            .await??)
    }

    /// A private note of an instructor on an application.
    pub async fn add_note(
        &self,
        caller: &Caller,
        programme_id: Uuid,
        id: Uuid,
        text: String,
    ) -> Result<Application, Error> {
        let (current, programme) = self.get_application(caller, programme_id, id).await?;
        Self::require_instructor(caller, &programme, "note on an application")?;
        let note = Note {
            author: caller.member_id.filter(|m| caller.is_member(*m)),
            text,
            at: now(),
        };
        let transition = ApplicationTransition::Note(note);
        Ok(self
            .move_application(&current, &programme, transition)
            .await??)
    }
}
