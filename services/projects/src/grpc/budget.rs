//! The handlers of a programme's money after it opens — `ChangeEnvelope`,
//! `RecordPayment`, `CancelAward` — and the application counts every programme read
//! carries; kept beside the service's one `impl` so that each file stays readable.

use fabrique_api::projects as proto;
use fabrique_platform::auth;
use fabrique_platform::request;
use fabrique_platform::time::now;
use tonic::{Request, Response, Status};

use super::ProjectsGrpc;
use crate::proto::{application_of, name_of, parse_envelope_change, parse_payment};

impl ProjectsGrpc {
    /// Fills in each programme's application and award counts, the power and
    /// production its awards report, and its co-funders' totals.
    pub(super) async fn count_applications(
        &self,
        programmes: &mut [proto::Programme],
    ) -> Result<(), Status> {
        let ids: Vec<uuid::Uuid> = programmes
            .iter()
            .filter_map(|p| p.name.strip_prefix("programmes/"))
            .filter_map(|id| uuid::Uuid::parse_str(id).ok())
            .collect();
        let counts = self.projects.application_counts(&ids).await?;
        let co_funding = self.projects.co_funding(&ids).await?;
        for programme in programmes {
            let id = programme
                .name
                .strip_prefix("programmes/")
                .and_then(|id| uuid::Uuid::parse_str(id).ok());
            for co in &mut programme.co_funders {
                let member = co
                    .member
                    .strip_prefix("members/")
                    .and_then(|m| uuid::Uuid::parse_str(m).ok());
                if let (Some(id), Some(member)) = (id, member)
                    && let Some((committed, paid)) = co_funding.get(&(id, member))
                {
                    (co.committed_cents, co.paid_cents) = (*committed, *paid);
                }
            }
            if let Some((applications, awards, watts)) = id.and_then(|id| counts.get(&id)) {
                programme.application_count = i32::try_from(*applications).unwrap_or(i32::MAX);
                programme.award_count = i32::try_from(*awards).unwrap_or(i32::MAX);
                programme.installed_kw = *watts as f64 / 1_000.0;
                programme.estimated_yearly_kwh = u32::try_from(programme.yield_kwh_per_kwp)
                    .map_or(0, |y| crate::domain::yearly_kwh(*watts, y));
            }
        }
        Ok(())
    }

    /// `ChangeEnvelope`: the funder's deliberation changes the envelope.
    pub(super) async fn envelope_changed(
        &self,
        request: Request<proto::ChangeEnvelopeRequest>,
    ) -> Result<Response<proto::Programme>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let id = name_of("name", "programmes", &r.name)?;
        let (envelope_cents, reference, decided_on) = parse_envelope_change(r, now().date_naive())?;
        let programme = self
            .projects
            .change_envelope(&caller, id, envelope_cents, reference, decided_on)
            .await?;
        let mut programme = [proto::Programme::from(&programme)];
        self.count_applications(&mut programme).await?;
        let [programme] = programme;
        Ok(Response::new(programme))
    }

    /// `RecordPayment`: an advance or the balance of an award.
    pub(super) async fn payment_recorded(
        &self,
        request: Request<proto::RecordPaymentRequest>,
    ) -> Result<Response<proto::Application>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let (programme, id) = application_of("name", &r.name)?;
        let payment = parse_payment(r.payment.as_ref(), now())?;
        Ok(Response::new(proto::Application::from(
            &self
                .projects
                .record_payment(&caller, programme, id, payment)
                .await?,
        )))
    }

    /// `CancelAward`: the beneficiary gave up before any payment.
    pub(super) async fn award_cancelled(
        &self,
        request: Request<proto::CancelAwardRequest>,
    ) -> Result<Response<proto::Application>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let (programme, id) = application_of("name", &r.name)?;
        let reason = request::reason("reason", &r.reason, true)?.unwrap_or_default();
        Ok(Response::new(proto::Application::from(
            &self
                .projects
                .cancel_award(&caller, programme, id, reason)
                .await?,
        )))
    }
}
