//! The budget handlers' work, which `grpc.rs`'s trait methods hand on: parse, call the
//! use case, convert back.

use fabrique_api::participation as proto;
use fabrique_platform::auth;
use fabrique_platform::{Error, request};
use tonic::{Request, Response, Status};

use crate::app::{CastBallot, Participation};
use crate::domain::budget::{parse_budget_name, parse_item_name};
use crate::proto::{budget_to_proto, parse_new_budget};

fn budget_ids(field: &str, name: &str) -> Result<(uuid::Uuid, uuid::Uuid), Status> {
    parse_budget_name(name.trim()).map_err(|invalid| Error::invalid(field, invalid.0).into())
}

fn ballot_to_proto(ballot: &CastBallot) -> proto::Ballot {
    proto::Ballot {
        budget: ballot.budget.name(),
        items: ballot
            .items
            .iter()
            .map(|i| ballot.budget.item_name(*i))
            .collect(),
        total_cents: ballot.total_cents,
        cast_time: Some(fabrique_platform::time::timestamp(ballot.cast_at)),
    }
}

pub(super) async fn create(
    participation: &Participation,
    request: Request<proto::CreateBudgetRequest>,
) -> Result<Response<proto::Budget>, Status> {
    let caller = auth::caller(&request)?;
    let r = request.get_ref();
    let process = fabrique_types::resource::parse_name("processes", r.parent.trim())
        .map_err(|invalid| Error::invalid("parent", invalid.0))?;
    let new = parse_new_budget(r.budget.as_ref())?;
    let request_id = request::request_id("request_id", &r.request_id)?;
    let budget = participation
        .create_budget(&caller, process, new, request_id)
        .await?;
    Ok(Response::new(budget_to_proto(&budget)))
}

pub(super) async fn get(
    participation: &Participation,
    request: Request<proto::GetBudgetRequest>,
) -> Result<Response<proto::Budget>, Status> {
    let (process, id) = budget_ids("name", &request.get_ref().name)?;
    let budget = participation.get_budget(process, id).await?;
    Ok(Response::new(budget_to_proto(&budget)))
}

pub(super) async fn list(
    participation: &Participation,
    request: Request<proto::ListBudgetsRequest>,
) -> Result<Response<proto::ListBudgetsResponse>, Status> {
    let process =
        fabrique_types::resource::parse_name("processes", request.get_ref().parent.trim())
            .map_err(|invalid| Error::invalid("parent", invalid.0))?;
    let budgets = participation.list_budgets(process).await?;
    Ok(Response::new(proto::ListBudgetsResponse {
        budgets: budgets.iter().map(budget_to_proto).collect(),
    }))
}

pub(super) async fn add_item(
    participation: &Participation,
    request: Request<proto::AddBudgetItemRequest>,
) -> Result<Response<proto::Budget>, Status> {
    let caller = auth::caller(&request)?;
    let r = request.get_ref();
    let ids = budget_ids("budget", &r.budget)?;
    let (process, proposal) = crate::domain::parse_proposal_name(r.proposal.trim())
        .map_err(|invalid| Error::invalid("proposal", invalid.0))?;
    if process != ids.0 {
        return Err(
            Error::invalid("proposal", "must be a proposal of the budget's process").into(),
        );
    }
    let budget = participation
        .add_budget_item(&caller, ids, proposal, r.cost_cents)
        .await?;
    Ok(Response::new(budget_to_proto(&budget)))
}

pub(super) async fn cast(
    participation: &Participation,
    request: Request<proto::CastBallotRequest>,
) -> Result<Response<proto::Ballot>, Status> {
    let caller = auth::caller(&request)?;
    let r = request.get_ref();
    let ids = budget_ids("budget", &r.budget)?;
    let budget = r.budget.trim();
    let mut items = Vec::with_capacity(r.items.len());
    for (index, item) in r.items.iter().enumerate() {
        let field = format!("items[{index}]");
        let (of, id) =
            parse_item_name(item.trim()).map_err(|invalid| Error::invalid(&field, invalid.0))?;
        if of != budget {
            return Err(Error::invalid(field, "is not an item of this budget").into());
        }
        items.push(id);
    }
    let ballot = participation.cast_ballot(&caller, ids, items).await?;
    Ok(Response::new(ballot_to_proto(&ballot)))
}

pub(super) async fn ballot(
    participation: &Participation,
    request: Request<proto::GetBallotRequest>,
) -> Result<Response<proto::Ballot>, Status> {
    let caller = auth::caller(&request)?;
    let ids = budget_ids("budget", &request.get_ref().budget)?;
    let ballot = participation.get_ballot(&caller, ids).await?;
    Ok(Response::new(ballot_to_proto(&ballot)))
}

pub(super) async fn close(
    participation: &Participation,
    request: Request<proto::CloseBudgetRequest>,
) -> Result<Response<proto::Budget>, Status> {
    let caller = auth::caller(&request)?;
    let ids = budget_ids("name", &request.get_ref().name)?;
    let budget = participation.close_budget(&caller, ids).await?;
    Ok(Response::new(budget_to_proto(&budget)))
}

pub(super) async fn export(
    participation: &Participation,
    request: Request<proto::ExportBudgetResultsRequest>,
) -> Result<Response<proto::ExportResponse>, Status> {
    let (process, id) = budget_ids("name", &request.get_ref().name)?;
    let (csv, rows) = participation.export_budget_results(process, id).await?;
    Ok(Response::new(proto::ExportResponse {
        csv,
        rows: rows as i32,
    }))
}
