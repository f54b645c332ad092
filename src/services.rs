//! Which services this binary can run, by name: `--services all` or a list such as
//! `--services members`.

use std::sync::Arc;

use fabrique_platform::service::Service;

/// Every service, in start order.
pub fn all() -> Vec<Arc<dyn Service>> {
    vec![
        Arc::new(fabrique_members::MembersService),
        Arc::new(fabrique_registry::RegistryServiceModule),
        Arc::new(fabrique_sharing::SharingServiceModule),
        Arc::new(fabrique_projects::ProjectsServiceModule),
    ]
}

/// The services named in `spec` (comma-separated names, or `all`).
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
            format!("unknown service {name:?}; known: all, {}", known.join(", "))
        })?;
        if !selected.iter().any(|s| s.name() == name) {
            selected.push(service.clone());
        }
    }
    Ok(selected)
}
