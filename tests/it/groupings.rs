//! Groupings as Thiers Dore et Montagne files one for its communes, on both backends:
//! each commune gets its own application, admitted and counted as its own; the funder
//! approves the grouping all at once or not at all, within the envelope — also when two
//! groupings race for the last money.

use fabrique_api::members as mp;
use fabrique_api::projects as proto;
use fabrique_testkit::{Backend, TestPlatform, authed};
use tonic::{Code, Status};

use crate::projects::{
    Projects, active_members, open_data_communes, platform, projects_database, scalar,
    solaire_dome, with_kind,
};
use crate::support::{Members, association, id_of, reason, violated_fields};

impl Projects {
    async fn file(&self, programme: &str, members: &[&String]) -> Result<proto::Grouping, Status> {
        self.file_with(programme, members, Vec::new()).await
    }

    /// A grouping giving each member's `installations`.
    async fn file_with(
        &self,
        programme: &str,
        members: &[&String],
        installations: Vec<proto::Installation>,
    ) -> Result<proto::Grouping, Status> {
        let request = proto::CreateGroupingRequest {
            parent: programme.to_string(),
            grouping: Some(proto::Grouping {
                purpose: "Groupement Solaire Dôme : centrales de 9 kWc sur les écoles".into(),
                members: members.iter().map(|m| m.to_string()).collect(),
                units_per_member: 1,
                installations,
                ..Default::default()
            }),
            request_id: String::new(),
        };
        let mut client = self.client.clone();
        client
            .create_grouping(authed(request, &self.token))
            .await
            .map(tonic::Response::into_inner)
    }

    async fn grouping(&self, name: &str) -> Result<proto::Grouping, Status> {
        let request = proto::GetGroupingRequest {
            name: name.to_string(),
        };
        let mut client = self.client.clone();
        client
            .get_grouping(authed(request, &self.token))
            .await
            .map(tonic::Response::into_inner)
    }

    async fn approve_grouping(&self, name: &str) -> Result<proto::Grouping, Status> {
        let request = proto::ApproveGroupingRequest {
            name: name.to_string(),
        };
        let mut client = self.client.clone();
        client
            .approve_grouping(authed(request, &self.token))
            .await
            .map(tonic::Response::into_inner)
    }
}

fn states(grouping: &proto::Grouping) -> Vec<i32> {
    grouping.applications.iter().map(|a| a.state).collect()
}

/// Over 60 lines: one grouping filed, refused and approved in turn, each step with what
/// the filer, a commune and the funder read.
async fn an_epci_files_for_its_communes(backend: Backend) {
    let platform = platform(backend).await;
    let members = Members::connect(&platform, TestPlatform::admin_token()).await;
    let mut list = vec![
        with_kind(
            "Département du Puy-de-Dôme",
            mp::MemberKind::Departement,
            &[],
        ),
        with_kind("Région Auvergne-Rhône-Alpes", mp::MemberKind::Region, &[]),
        with_kind("Thiers Dore et Montagne", mp::MemberKind::Epci, &[]),
        association("Les Amis du Moulin"),
    ];
    list.extend(open_data_communes(3));
    let names = active_members(&platform, &members, list).await;
    let client =
        |i: usize| Projects::connect(&platform, TestPlatform::member_token(&id_of(&names[i])));
    let (funder, epci, commune) = (client(0).await, client(2).await, client(4).await);
    let programme = funder
        .programme(proto::Programme {
            envelope_cents: 1_000_000,
            ..solaire_dome(&names[1])
        })
        .await
        .expect("open");
    let (c1, c2, c3) = (&names[4], &names[5], &names[6]);

    // The third commune applied alone and was awarded: it cannot be in a grouping.
    let alone = client(6)
        .await
        .apply(&programme.name, "Centrale")
        .await
        .expect("apply");
    funder.approve(&alone.name).await.expect("approved");
    let refused = epci.file(&programme.name, &[c1, c3]).await.unwrap_err();
    assert_eq!(reason(&refused), "AWARD_LIMIT_REACHED", "{refused:?}");
    let ineligible = epci
        .file(&programme.name, &[c1, &names[3]])
        .await
        .unwrap_err();
    assert_eq!(reason(&ineligible), "INELIGIBLE", "{ineligible:?}");
    let twice = epci.file(&programme.name, &[c1, c1]).await.unwrap_err();
    assert_eq!(violated_fields(&twice), ["grouping.members[1]"]);
    let db = projects_database(&platform).await;
    assert_eq!(
        scalar(&db, "SELECT COUNT(*) FROM applications").await,
        1,
        "nothing half-filed"
    );

    let grouping = epci.file(&programme.name, &[c1, c2]).await.expect("filed");
    assert_eq!(grouping.filer, names[2]);
    let applicants: Vec<&String> = grouping.applications.iter().map(|a| &a.applicant).collect();
    assert_eq!(applicants, [c1, c2]);
    assert!(
        grouping
            .applications
            .iter()
            .all(|a| a.grouping == grouping.name && a.filer == names[2])
    );
    let own = commune
        .application(&grouping.applications[0].name)
        .await
        .expect("a commune reads its own");
    assert_eq!(own.filer, names[2]);
    let hidden = commune.grouping(&grouping.name).await.unwrap_err();
    assert_eq!(
        hidden.code(),
        Code::NotFound,
        "the grouping is the filer's and the instructors'"
    );

    // 5,000 € left for two awards: all or none, and both stay submitted.
    let short = funder.approve_grouping(&grouping.name).await.unwrap_err();
    assert_eq!(reason(&short), "ENVELOPE_EXHAUSTED");
    let still = epci.grouping(&grouping.name).await.expect("read");
    assert_eq!(
        states(&still),
        [proto::ApplicationState::Submitted as i32; 2]
    );
    let denied = epci.approve_grouping(&grouping.name).await.unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);

    funder
        .change_envelope(&programme.name, 1_500_000, "DM2-2026-045")
        .await
        .expect("top-up");
    let approved = funder
        .approve_grouping(&grouping.name)
        .await
        .expect("approved");
    assert_eq!(
        states(&approved),
        [proto::ApplicationState::Approved as i32; 2]
    );
    let programme = funder.get_programme(&programme.name).await.expect("read");
    assert_eq!(
        (programme.committed_cents, programme.award_count),
        (1_500_000, 3)
    );
    let again = funder.approve_grouping(&grouping.name).await.unwrap_err();
    assert_eq!(reason(&again), "APPLICATION_DECIDED");
}

/// Two groupings approved at once with money for one: exactly one is, whole.
async fn two_groupings_race_for_the_last_money(backend: Backend) {
    let platform = platform(backend).await;
    let members = Members::connect(&platform, TestPlatform::admin_token()).await;
    let mut list = vec![
        with_kind(
            "Département du Puy-de-Dôme",
            mp::MemberKind::Departement,
            &[],
        ),
        with_kind("Région Auvergne-Rhône-Alpes", mp::MemberKind::Region, &[]),
        with_kind("Thiers Dore et Montagne", mp::MemberKind::Epci, &[]),
    ];
    list.extend(open_data_communes(4));
    let names = active_members(&platform, &members, list).await;
    let funder = Projects::connect(&platform, TestPlatform::member_token(&id_of(&names[0]))).await;
    let epci = Projects::connect(&platform, TestPlatform::member_token(&id_of(&names[2]))).await;
    let programme = funder
        .programme(proto::Programme {
            envelope_cents: 1_000_000,
            ..solaire_dome(&names[1])
        })
        .await
        .expect("open");
    let first = epci
        .file(&programme.name, &[&names[3], &names[4]])
        .await
        .expect("filed");
    let second = epci
        .file(&programme.name, &[&names[5], &names[6]])
        .await
        .expect("filed");
    let other = funder.clone();
    let (one, two) = tokio::join!(
        funder.approve_grouping(&first.name),
        other.approve_grouping(&second.name)
    );
    let won: Vec<&proto::Grouping> = [&one, &two]
        .into_iter()
        .filter_map(|r| r.as_ref().ok())
        .collect();
    assert_eq!(won.len(), 1, "{one:?} {two:?}");
    assert_eq!(
        states(won[0]),
        [proto::ApplicationState::Approved as i32; 2]
    );
    let programme = funder.get_programme(&programme.name).await.expect("read");
    assert_eq!(programme.committed_cents, 1_000_000);
    assert_eq!(
        programme.award_count, 2,
        "the loser's applications stay submitted"
    );
}

/// Each commune of a grouping gives what it installs; the programme reports them once
/// approved. One installation per member or none: a partial list is named.
async fn each_commune_of_a_grouping_gives_its_installation(backend: Backend) {
    let platform = platform(backend).await;
    let members = Members::connect(&platform, TestPlatform::admin_token()).await;
    let mut list = vec![
        with_kind(
            "Département du Puy-de-Dôme",
            mp::MemberKind::Departement,
            &[],
        ),
        with_kind("Région Auvergne-Rhône-Alpes", mp::MemberKind::Region, &[]),
        with_kind("Thiers Dore et Montagne", mp::MemberKind::Epci, &[]),
    ];
    list.extend(open_data_communes(2));
    let names = active_members(&platform, &members, list).await;
    let client =
        |i: usize| Projects::connect(&platform, TestPlatform::member_token(&id_of(&names[i])));
    let (funder, epci) = (client(0).await, client(2).await);
    let programme = funder
        .programme(proto::Programme {
            yield_kwh_per_kwp: 1_200,
            ..solaire_dome(&names[1])
        })
        .await
        .expect("open");
    let (c1, c2) = (&names[3], &names[4]);
    let roof = |kw: f64, building: &str| proto::Installation {
        peak_kw: kw,
        area_m2: 60.0,
        building: building.into(),
    };
    let partial = epci
        .file_with(&programme.name, &[c1, c2], vec![roof(9.0, "École")])
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&partial), vec!["grouping.installations"]);
    let bad = epci
        .file_with(
            &programme.name,
            &[c1, c2],
            vec![roof(9.0, "École"), roof(0.0, "Mairie")],
        )
        .await
        .unwrap_err();
    assert_eq!(
        violated_fields(&bad),
        vec!["grouping.installations[1].peak_kw"]
    );
    let filed = epci
        .file_with(
            &programme.name,
            &[c1, c2],
            vec![roof(9.0, "École"), roof(6.0, "Mairie")],
        )
        .await
        .expect("filed");
    let installed: Vec<(f64, String)> = filed
        .applications
        .iter()
        .map(|a| {
            let i = a.installation.clone().expect("an installation");
            (i.peak_kw, i.building)
        })
        .collect();
    assert_eq!(
        installed,
        vec![(9.0, "École".to_string()), (6.0, "Mairie".to_string())]
    );
    funder
        .approve_grouping(&filed.name)
        .await
        .expect("approved");
    let read = funder.get_programme(&programme.name).await.expect("read");
    assert_eq!(
        (read.installed_kw, read.estimated_yearly_kwh),
        (15.0, 18_000)
    );
}

mod postgres {
    #[tokio::test]
    async fn each_commune_of_a_grouping_gives_its_installation() {
        super::each_commune_of_a_grouping_gives_its_installation(
            fabrique_testkit::Backend::Postgres,
        )
        .await;
    }

    #[tokio::test]
    async fn an_epci_files_for_its_communes() {
        super::an_epci_files_for_its_communes(fabrique_testkit::Backend::Postgres).await;
    }

    #[tokio::test]
    async fn two_groupings_race_for_the_last_money() {
        super::two_groupings_race_for_the_last_money(fabrique_testkit::Backend::Postgres).await;
    }
}

mod sqlite {
    #[tokio::test]
    async fn each_commune_of_a_grouping_gives_its_installation() {
        super::each_commune_of_a_grouping_gives_its_installation(fabrique_testkit::Backend::Sqlite)
            .await;
    }

    #[tokio::test]
    async fn an_epci_files_for_its_communes() {
        super::an_epci_files_for_its_communes(fabrique_testkit::Backend::Sqlite).await;
    }

    #[tokio::test]
    async fn two_groupings_race_for_the_last_money() {
        super::two_groupings_race_for_the_last_money(fabrique_testkit::Backend::Sqlite).await;
    }
}
