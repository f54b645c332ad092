//! Which services this binary can run, by name: `--services all` or a list such as
//! `--services members`. The gRPC services are in [`all`]; the web site ([`WEB`]) is
//! served beside them over HTTP, reads only their API, and owns no data.

use std::sync::Arc;

use fabrique_platform::service::Service;

/// Every service, in start order.
pub fn all() -> Vec<Arc<dyn Service>> {
    vec![
        Arc::new(fabrique_members::MembersService),
        Arc::new(fabrique_registry::RegistryServiceModule),
        Arc::new(fabrique_sharing::SharingServiceModule),
        Arc::new(fabrique_projects::ProjectsServiceModule),
        Arc::new(fabrique_participation::ParticipationServiceModule),
        Arc::new(fabrique_notify::NotifyServiceModule::default()),
    ]
}

/// `services` with the notify service (if among them) sending as `notify` says: [`all`]
/// gives it its defaults, `serve` its flags.
pub fn with_notify(
    services: Vec<Arc<dyn Service>>,
    notify: fabrique_notify::NotifyConfig,
) -> Vec<Arc<dyn Service>> {
    services
        .into_iter()
        .map(|service| -> Arc<dyn Service> {
            if service.name() == fabrique_notify::NAME {
                Arc::new(fabrique_notify::NotifyServiceModule::new(notify.clone()))
            } else {
                service
            }
        })
        .collect()
}

/// The web site's name in `--services`: part of `all`, never in [`all`]'s list (it
/// has no database, no stream and no gRPC API of its own).
pub const WEB: &str = "web";

/// What `--services` asks for: gRPC services, and whether the web site.
pub struct Selection {
    /// The gRPC services, in start order.
    pub services: Vec<Arc<dyn Service>>,
    /// Whether the web site runs too.
    pub web: bool,
}

/// The services named in `spec` (comma-separated names, `web` among them, or `all`).
pub fn select_with_web(spec: &str) -> Result<Selection, String> {
    let names: Vec<&str> = spec
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    let everything = names.is_empty() || names.contains(&"all");
    let web = everything || names.contains(&WEB);
    let grpc: Vec<&str> = names.into_iter().filter(|n| *n != WEB).collect();
    let services = if grpc.is_empty() && !everything {
        Vec::new()
    } else {
        select(&grpc.join(","))?
    };
    Ok(Selection { services, web })
}

/// The gRPC services named in `spec` (comma-separated names, or `all`).
pub fn select(spec: &str) -> Result<Vec<Arc<dyn Service>>, String> {
    let available = all();
    let names: Vec<&str> = spec
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if names.is_empty() || names == ["all"] {
        return Ok(available);
    }
    let mut selected: Vec<Arc<dyn Service>> = Vec::new();
    for name in names {
        let service = available.iter().find(|s| s.name() == name).ok_or_else(|| {
            let known: Vec<_> = available.iter().map(|s| s.name()).collect();
            format!(
                "unknown service {name:?}; known: all, {}, {WEB}",
                known.join(", ")
            )
        })?;
        if !selected.iter().any(|s| s.name() == name) {
            selected.push(service.clone());
        }
    }
    Ok(selected)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(selection: &Selection) -> Vec<&'static str> {
        selection.services.iter().map(|s| s.name()).collect()
    }

    #[test]
    fn all_includes_the_web_site_and_web_alone_runs_no_grpc_service() {
        let all_of_it = select_with_web("all").unwrap();
        assert!(all_of_it.web);
        assert_eq!(names(&all_of_it).len(), all().len());
        let web = select_with_web("web").unwrap();
        assert!(web.web && web.services.is_empty());
        let both = select_with_web("registry,web").unwrap();
        assert!(both.web);
        assert_eq!(names(&both), ["registry"]);
        let registry = select_with_web("registry").unwrap();
        assert!(!registry.web);
        assert_eq!(names(&registry), ["registry"]);
        let unknown = select_with_web("registry,webb").err().unwrap();
        assert!(unknown.contains("known: all, members"), "{unknown}");
        assert!(unknown.ends_with(", web"), "{unknown}");
    }
}
