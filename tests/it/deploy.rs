//! The Kubernetes manifests and the binary agree. Each overlay is rendered with
//! kustomize and run the way a cluster would run it, on loopback: every Deployment's
//! init containers then containers start with their own args, with the env their
//! ConfigMap, Secret and field references resolve to, on their declared ports; the test
//! waits for their declared probes to answer (gRPC SERVING, HTTP success) and runs a
//! flow through them, and through the site's pages.
//! NATS runs from the rendered `nats.conf` (one node instead of three), so the
//! per-service users and permissions are the ones a cluster gets.
//!
//! Only what a laptop cannot be is changed, and each change is checked first: ports
//! become free loopback ports (the probe port must be the listen port, or nothing
//! answers), service hosts become 127.0.0.1 (the URL must name a rendered Service and
//! its port; the site's, the pod behind it), each PostgreSQL URL becomes a fresh database, volumes become temporary
//! folders, streams get one replica, and the collector endpoint is dropped.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use fabrique_api::members as members_proto;
use fabrique_api::projects as projects_proto;
use fabrique_api::registry as registry_proto;
use fabrique_api::sharing as sharing_proto;
use fabrique_testkit::{TempDir, TestDatabase, authed};
use serde::Deserialize;
use serde_json::Value;
use tonic::Code;
use tonic::transport::Channel;
use tonic_health::pb::health_check_response::ServingStatus;

const BIN: &str = env!("CARGO_BIN_EXE_fabrique");

/// The names of the services the binary runs: the one list.
fn service_names() -> Vec<&'static str> {
    fabrique::services::all().iter().map(|s| s.name()).collect()
}

/// Env names the binary does not declare but reads through its libraries.
const LIBRARY_ENV: &[&str] = &[
    "RUST_LOG",
    "OTEL_SERVICE_NAME",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_PROTOCOL",
    "OTEL_RESOURCE_ATTRIBUTES",
    "OTEL_SDK_DISABLED",
];

// ------------------------------------------------------------------ rendering

fn kustomize() -> PathBuf {
    std::env::var_os("FABRIQUE_TEST_KUSTOMIZE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            panic!(
                "FABRIQUE_TEST_KUSTOMIZE is not set: run the suite with ./scripts/test, which \
                 installs kustomize, or point it at a kustomize binary (4.5 or later)"
            )
        })
}

/// Every object `kustomize build deploy/k8s/overlays/<overlay>` renders.
fn render(overlay: &str) -> Manifests {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("deploy/k8s/overlays")
        .join(overlay);
    let output = std::process::Command::new(kustomize())
        .arg("build")
        .arg(&dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run kustomize: {e}"));
    assert!(
        output.status.success(),
        "kustomize build {} failed:\n{}",
        dir.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).expect("UTF-8 manifests");
    let objects = serde_norway::Deserializer::from_str(&text)
        .map(|document| Value::deserialize(document).expect("a YAML document"))
        .filter(|v| !v.is_null())
        .collect();
    Manifests { objects }
}

/// The Secrets an operator creates with `deploy/k8s/create-secrets` (docs/operations.md):
/// for production, with the URLs of their own PostgreSQL in the environment.
fn operator_secrets(with_postgres: bool) -> Vec<Value> {
    operator_secrets_with(with_postgres, &[])
}

/// [`operator_secrets`], the operator giving `extra` in the environment too (e.g. the
/// site's OpenID client secret).
fn operator_secrets_with(with_postgres: bool, extra: &[(&str, &str)]) -> Vec<Value> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/k8s/create-secrets");
    let mut command = std::process::Command::new(script);
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(extra.iter().copied());
    if with_postgres {
        command.arg("--with-postgres");
    } else {
        for service in service_names() {
            command.env(
                format!("{}_DATABASE_URL", service.to_uppercase()),
                format!("postgres://{service}:operator-password@db.alliance.example:5432/fabrique_{service}?sslmode=require"),
            );
        }
    }
    let output = command.output().expect("create-secrets runs");
    assert!(
        output.status.success(),
        "create-secrets: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).expect("UTF-8");
    let secrets: Vec<Value> = serde_norway::Deserializer::from_str(&text)
        .map(|document| Value::deserialize(document).expect("a YAML Secret"))
        .filter(|v| !v.is_null())
        .collect();
    assert!(!secrets.is_empty(), "create-secrets prints no Secret");
    for secret in &secrets {
        assert_eq!(str_at(secret, "/kind"), Some("Secret"));
    }
    secrets
}

/// The keys of the Secret `name` among `secrets`.
fn secret_keys(secrets: &[Value], name: &str) -> BTreeSet<String> {
    secrets
        .iter()
        .find(|s| str_at(s, "/metadata/name") == Some(name))
        .and_then(|s| s.get("stringData"))
        .and_then(Value::as_object)
        .map(|data| data.keys().cloned().collect())
        .unwrap_or_default()
}

/// An overlay as it runs once the operator created its Secrets.
fn render_with_operator_secret(overlay: &str) -> Manifests {
    let mut manifests = render(overlay);
    manifests
        .objects
        .extend(operator_secrets(overlay == "small"));
    manifests
}

struct Manifests {
    objects: Vec<Value>,
}

fn str_at<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value.pointer(pointer).and_then(Value::as_str)
}

fn port_of(value: &Value) -> Option<u16> {
    value.as_u64().and_then(|p| u16::try_from(p).ok())
}

impl Manifests {
    fn all(&self, kind: &str) -> impl Iterator<Item = &Value> {
        let kind = kind.to_string();
        self.objects
            .iter()
            .filter(move |o| str_at(o, "/kind") == Some(kind.as_str()))
    }

    fn get(&self, kind: &str, name: &str) -> Option<&Value> {
        self.all(kind)
            .find(|o| str_at(o, "/metadata/name") == Some(name))
    }

    fn get_mut(&mut self, kind: &str, name: &str) -> &mut Value {
        self.objects
            .iter_mut()
            .find(|o| str_at(o, "/kind") == Some(kind) && str_at(o, "/metadata/name") == Some(name))
            .unwrap_or_else(|| panic!("no {kind} {name}"))
    }

    /// A ConfigMap's or Secret's entries (Secret `data` decoded).
    fn entries(&self, kind: &str, name: &str) -> Result<BTreeMap<String, String>, String> {
        let object = self
            .get(kind, name)
            .ok_or_else(|| format!("{kind} {name} is not rendered"))?;
        let mut entries = BTreeMap::new();
        if let Some(data) = object.get("data").and_then(Value::as_object) {
            for (key, value) in data {
                let text = value.as_str().unwrap_or_default();
                let text = if kind == "Secret" {
                    let bytes = base64::engine::general_purpose::STANDARD
                        .decode(text)
                        .map_err(|e| format!("Secret {name} key {key}: {e}"))?;
                    String::from_utf8(bytes).map_err(|e| format!("Secret {name} {key}: {e}"))?
                } else {
                    text.to_string()
                };
                entries.insert(key.clone(), text);
            }
        }
        if let Some(data) = object.get("stringData").and_then(Value::as_object) {
            for (key, value) in data {
                entries.insert(key.clone(), value.as_str().unwrap_or_default().to_string());
            }
        }
        Ok(entries)
    }

    fn entry(&self, kind: &str, name: &str, key: &str) -> Result<String, String> {
        self.entries(kind, name)?
            .remove(key)
            .ok_or_else(|| format!("{kind} {name} has no key {key}"))
    }

    /// A Service's port: `(service port, the Service object)`.
    fn service_port(&self, host: &str, port: u16) -> Result<&Value, String> {
        let name = host.split('.').next().unwrap_or(host);
        let service = self
            .get("Service", name)
            .ok_or_else(|| format!("no Service named {name:?}"))?;
        let ports = service
            .pointer("/spec/ports")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if ports
            .iter()
            .any(|p| p.get("port").and_then(port_of) == Some(port))
        {
            Ok(service)
        } else {
            Err(format!("Service {name} has no port {port}"))
        }
    }
}

// ------------------------------------------------------------------ containers

#[derive(Debug, Clone)]
struct GrpcProbe {
    port: u16,
    service: String,
}

/// An `httpGet` probe, its port resolved to a number (a named one through the
/// container's ports; 0 when it names none).
#[derive(Debug, Clone)]
struct HttpProbe {
    port: u16,
    path: String,
}

/// A container as the kubelet would start it.
#[derive(Debug, Clone)]
struct Container {
    workload: String,
    name: String,
    init: bool,
    image: String,
    args: Vec<String>,
    command: Option<Vec<String>>,
    /// Names set by `env` (checked against the container's subcommand).
    explicit_env: Vec<String>,
    /// Names brought by `envFrom`.
    env_from_names: Vec<String>,
    /// Resolved, later entries winning as in Kubernetes.
    env: BTreeMap<String, String>,
    ports: BTreeMap<String, u16>,
    readiness: Option<GrpcProbe>,
    liveness: Option<GrpcProbe>,
    http_readiness: Option<HttpProbe>,
    http_liveness: Option<HttpProbe>,
    mounts: Vec<String>,
    security: Value,
    resources: Value,
    grace_seconds: Option<u64>,
}

impl Container {
    fn label(&self) -> String {
        format!("{}/{}", self.workload, self.name)
    }

    fn subcommand(&self) -> &str {
        self.args.first().map(String::as_str).unwrap_or("serve")
    }

    fn is_fabrique(&self) -> bool {
        self.image.contains("fabrique")
    }

    /// What `fabrique serve` runs in this container: `--services` from its args, else
    /// `FABRIQUE_SERVICES`, else all.
    fn selection(&self) -> fabrique::services::Selection {
        let from_args = self.args.iter().enumerate().find_map(|(i, arg)| {
            arg.strip_prefix("--services=")
                .map(str::to_string)
                .or_else(|| (arg == "--services").then(|| self.args.get(i + 1).cloned())?)
        });
        let spec = from_args
            .or_else(|| self.env.get("FABRIQUE_SERVICES").cloned())
            .unwrap_or_else(|| "all".into());
        fabrique::services::select_with_web(&spec)
            .unwrap_or_else(|e| panic!("{}: --services {spec}: {e}", self.label()))
    }

    /// Runs the web site and no gRPC service (`serve --services web`).
    fn is_site_alone(&self) -> bool {
        if self.init || self.subcommand() != "serve" {
            return false;
        }
        let selection = self.selection();
        selection.web && selection.services.is_empty()
    }
}

fn grpc_probe(container: &Value, which: &str) -> Option<GrpcProbe> {
    let grpc = container.get(which)?.get("grpc")?;
    Some(GrpcProbe {
        port: grpc.get("port").and_then(port_of)?,
        service: grpc
            .get("service")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
    })
}

fn http_probe(container: &Value, which: &str, ports: &BTreeMap<String, u16>) -> Option<HttpProbe> {
    let get = container.get(which)?.get("httpGet")?;
    let port = match get.get("port")? {
        Value::String(name) => ports.get(name).copied().unwrap_or(0),
        number => port_of(number)?,
    };
    Some(HttpProbe {
        port,
        path: str_at(get, "/path").unwrap_or("/").to_string(),
    })
}

fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|v| v.as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// Every container of a workload (Deployment or StatefulSet), env resolved; errors name
/// what does not resolve.
fn containers(manifests: &Manifests, workload: &Value) -> Result<Vec<Container>, String> {
    let workload_name = str_at(workload, "/metadata/name").unwrap_or_default();
    let namespace = str_at(workload, "/metadata/namespace").unwrap_or("default");
    let pod = workload
        .pointer("/spec/template/spec")
        .ok_or_else(|| format!("{workload_name} has no pod template"))?;
    let grace_seconds = pod
        .get("terminationGracePeriodSeconds")
        .and_then(Value::as_u64);
    let mut out = Vec::new();
    for (key, init) in [("initContainers", true), ("containers", false)] {
        for container in pod.get(key).and_then(Value::as_array).into_iter().flatten() {
            let name = str_at(container, "/name").unwrap_or_default().to_string();
            let label = format!("{workload_name}/{name}");
            let mut env = BTreeMap::new();
            let mut env_from_names = Vec::new();
            for source in container
                .get("envFrom")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let (kind, reference) = if let Some(r) = source.get("configMapRef") {
                    ("ConfigMap", r)
                } else if let Some(r) = source.get("secretRef") {
                    ("Secret", r)
                } else {
                    return Err(format!("{label}: unsupported envFrom {source}"));
                };
                let source_name = str_at(reference, "/name").unwrap_or_default();
                // An optional source that is not there gives nothing, as the kubelet has it.
                if reference.get("optional").and_then(Value::as_bool) == Some(true)
                    && manifests.get(kind, source_name).is_none()
                {
                    continue;
                }
                for (k, v) in manifests
                    .entries(kind, source_name)
                    .map_err(|e| format!("{label}: {e}"))?
                {
                    env_from_names.push(k.clone());
                    env.insert(k, v);
                }
            }
            let mut explicit_env = Vec::new();
            for var in container
                .get("env")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let var_name = str_at(var, "/name").unwrap_or_default().to_string();
                // A key reference: its value, or none when it is missing and optional
                // (the kubelet then leaves the variable unset).
                let key_ref = |kind: &str, r: &Value| match manifests.entry(
                    kind,
                    str_at(r, "/name").unwrap_or_default(),
                    str_at(r, "/key").unwrap_or_default(),
                ) {
                    Ok(value) => Ok(Some(value)),
                    Err(_) if r.get("optional") == Some(&Value::Bool(true)) => Ok(None),
                    Err(e) => Err(format!("{label} env {var_name}: {e}")),
                };
                let value = if let Some(value) = var.get("value") {
                    Some(value.as_str().unwrap_or_default().to_string())
                } else if let Some(r) = var.pointer("/valueFrom/secretKeyRef") {
                    key_ref("Secret", r)?
                } else if let Some(r) = var.pointer("/valueFrom/configMapKeyRef") {
                    key_ref("ConfigMap", r)?
                } else if let Some(path) = str_at(var, "/valueFrom/fieldRef/fieldPath") {
                    match path {
                        "metadata.name" => Some(format!("{workload_name}-0")),
                        "metadata.namespace" => Some(namespace.to_string()),
                        other => return Err(format!("{label}: unsupported fieldRef {other}")),
                    }
                } else {
                    return Err(format!("{label} env {var_name}: unsupported source"));
                };
                explicit_env.push(var_name.clone());
                if let Some(value) = value {
                    env.insert(var_name, value);
                }
            }
            let ports: BTreeMap<String, u16> = container
                .get("ports")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|p| {
                    Some((
                        str_at(p, "/name").unwrap_or_default().to_string(),
                        p.get("containerPort").and_then(port_of)?,
                    ))
                })
                .collect();
            let http_readiness = http_probe(container, "readinessProbe", &ports);
            let http_liveness = http_probe(container, "livenessProbe", &ports);
            out.push(Container {
                workload: workload_name.to_string(),
                name,
                init,
                image: str_at(container, "/image").unwrap_or_default().to_string(),
                args: strings(container.get("args")),
                command: container.get("command").map(|c| strings(Some(c))),
                explicit_env,
                env_from_names,
                env,
                ports,
                readiness: grpc_probe(container, "readinessProbe"),
                liveness: grpc_probe(container, "livenessProbe"),
                http_readiness,
                http_liveness,
                mounts: container
                    .get("volumeMounts")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|m| str_at(m, "/mountPath").map(str::to_string))
                    .collect(),
                security: container
                    .get("securityContext")
                    .cloned()
                    .unwrap_or(Value::Null),
                resources: container.get("resources").cloned().unwrap_or(Value::Null),
                grace_seconds,
            });
        }
    }
    Ok(out)
}

/// The containers running the fabrique image, in every Deployment.
fn fabrique_containers(manifests: &Manifests) -> Vec<Container> {
    let mut all = Vec::new();
    for deployment in manifests.all("Deployment") {
        let found = containers(manifests, deployment).unwrap_or_else(|e| panic!("{e}"));
        all.extend(found.into_iter().filter(Container::is_fabrique));
    }
    assert!(!all.is_empty(), "no Deployment runs the fabrique image");
    all
}

// ------------------------------------------------------------------ static agreement

/// The env names each subcommand reads, from its `--help` (`[env: NAME`).
fn declared_env(subcommand: &str) -> BTreeSet<String> {
    let output = std::process::Command::new(BIN)
        .args([subcommand, "--help"])
        .output()
        .expect("fabrique --help runs");
    assert!(
        output.status.success(),
        "fabrique {subcommand} --help failed"
    );
    let help = String::from_utf8_lossy(&output.stdout);
    help.split("[env: ")
        .skip(1)
        .map(|rest| {
            rest.chars()
                .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                .collect::<String>()
        })
        .collect()
}

/// The port in a `host:port` listen address.
fn listen_port(address: &str) -> Option<u16> {
    address.rsplit_once(':').and_then(|(_, p)| p.parse().ok())
}

/// `scheme://host:port…` → (host, port).
fn url_host_port(url: &str) -> Option<(String, u16)> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?']).next()?;
    let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
    let (host, port) = authority.rsplit_once(':')?;
    Some((host.to_string(), port.parse().ok()?))
}

/// What in the rendered manifests the binary would not do as declared: unknown env
/// names, probes off the listen port, Service ports that reach no container port,
/// missing hardening, a grace period shorter than the drain.
fn problems(manifests: &Manifests) -> Vec<String> {
    let mut problems = Vec::new();
    let mut known: HashMap<String, BTreeSet<String>> = HashMap::new();
    let containers = fabrique_containers(manifests);
    let mut read_by_any = BTreeSet::new();
    for sub in ["serve", "migrate"] {
        read_by_any.extend(declared_env(sub));
    }
    for c in &containers {
        let label = c.label();
        let declared = known
            .entry(c.subcommand().to_string())
            .or_insert_with(|| declared_env(c.subcommand()));
        if let Some(command) = &c.command {
            problems.push(format!(
                "{label}: sets command {command:?}; the image's entrypoint is the fabrique binary"
            ));
        }
        for name in &c.explicit_env {
            if !declared.contains(name) && !LIBRARY_ENV.contains(&name.as_str()) {
                problems.push(format!(
                    "{label}: env {name} is not read by `fabrique {}`",
                    c.subcommand()
                ));
            }
        }
        for name in &c.env_from_names {
            if !read_by_any.contains(name) && !LIBRARY_ENV.contains(&name.as_str()) {
                problems.push(format!(
                    "{label}: env {name} (envFrom) is read by no fabrique command"
                ));
            }
        }
        let security = &c.security;
        if security.get("readOnlyRootFilesystem") != Some(&Value::Bool(true))
            || security.get("allowPrivilegeEscalation") != Some(&Value::Bool(false))
            || !strings(security.pointer("/capabilities/drop")).contains(&"ALL".to_string())
        {
            problems.push(format!(
                "{label}: securityContext must set readOnlyRootFilesystem, no privilege escalation, drop ALL"
            ));
        }
        if c.resources.pointer("/requests/memory").is_none()
            || c.resources.pointer("/limits/memory").is_none()
            || c.resources.pointer("/requests/cpu").is_none()
        {
            problems.push(format!(
                "{label}: resources need cpu and memory requests and a memory limit"
            ));
        }
        if c.init || c.subcommand() != "serve" {
            continue;
        }
        if c.selection().web {
            problems.extend(site_problems(manifests, c));
        }
        if c.is_site_alone() {
            continue;
        }
        let Some(listen) = c.env.get("FABRIQUE_LISTEN").and_then(|a| listen_port(a)) else {
            problems.push(format!("{label}: FABRIQUE_LISTEN is not set to host:port"));
            continue;
        };
        if !c.ports.values().any(|p| *p == listen) {
            problems.push(format!(
                "{label}: no containerPort {listen} (FABRIQUE_LISTEN)"
            ));
        }
        for (which, probe) in [("readiness", &c.readiness), ("liveness", &c.liveness)] {
            match probe {
                None => problems.push(format!("{label}: no gRPC {which} probe")),
                Some(p) if p.port != listen => problems.push(format!(
                    "{label}: {which} probe on port {} but the server listens on {listen}",
                    p.port
                )),
                Some(_) => {}
            }
        }
        let drain: u64 = c
            .env
            .get("FABRIQUE_DRAIN_SECONDS")
            .and_then(|d| d.parse().ok())
            .unwrap_or(10);
        if c.grace_seconds.unwrap_or(30) <= drain {
            problems.push(format!(
                "{label}: terminationGracePeriodSeconds must exceed FABRIQUE_DRAIN_SECONDS ({drain})"
            ));
        }
        if let Some(url) = c.env.get("FABRIQUE_NATS_URL") {
            match url_host_port(url) {
                Some((host, port)) => {
                    if let Err(e) = manifests.service_port(&host, port) {
                        problems.push(format!("{label}: FABRIQUE_NATS_URL {url}: {e}"));
                    }
                }
                None => problems.push(format!("{label}: FABRIQUE_NATS_URL {url} has no host:port")),
            }
        }
        if let Some(url) = c.env.get("OTEL_EXPORTER_OTLP_ENDPOINT") {
            let agrees = url_host_port(url)
                .map(|(host, port)| manifests.service_port(&host, port).map(|_| ()))
                .unwrap_or_else(|| Err("no host:port".into()));
            if let Err(e) = agrees {
                problems.push(format!("{label}: OTEL_EXPORTER_OTLP_ENDPOINT {url}: {e}"));
            }
        }
    }
    // Services: their target port must be a port of the pods they select.
    for service in manifests.all("Service") {
        let name = str_at(service, "/metadata/name").unwrap_or_default();
        let Some(selector) = service.pointer("/spec/selector") else {
            continue;
        };
        let pods: Vec<&Container> = containers
            .iter()
            .filter(|c| !c.init)
            .filter(|c| {
                manifests
                    .get("Deployment", &c.workload)
                    .and_then(|d| d.pointer("/spec/template/metadata/labels"))
                    .and_then(Value::as_object)
                    .zip(selector.as_object())
                    .is_some_and(|(labels, wanted)| {
                        wanted.iter().all(|(k, v)| labels.get(k) == Some(v))
                    })
            })
            .collect();
        if pods.is_empty() {
            continue;
        }
        for port in strings_or_ports(service) {
            let reached = pods.iter().any(|c| match &port {
                TargetPort::Name(n) => c.ports.contains_key(n),
                TargetPort::Number(p) => c.ports.values().any(|x| x == p),
            });
            if !reached {
                problems.push(format!(
                    "Service {name}: target port {port:?} is no container port"
                ));
            }
        }
    }
    problems
}

/// The services the site reads, each with its own URL's variable (else
/// `FABRIQUE_WEB_API_URL`): `services/web/src/api.rs`.
const SITE_READS: &[(&str, &str)] = &[
    ("FABRIQUE_WEB_MEMBERS_URL", "members"),
    ("FABRIQUE_WEB_REGISTRY_URL", "registry"),
    ("FABRIQUE_WEB_PROJECTS_URL", "projects"),
    ("FABRIQUE_WEB_SHARING_URL", "sharing"),
];

/// What would keep a container's web site from answering its Service and probes, or
/// from reaching the services it reads.
fn site_problems(manifests: &Manifests, c: &Container) -> Vec<String> {
    let label = c.label();
    let mut problems = Vec::new();
    let listen = c
        .env
        .get("FABRIQUE_WEB_LISTEN")
        .cloned()
        .unwrap_or_else(|| "127.0.0.1:8080".into());
    let Some((host, port)) = listen.rsplit_once(':') else {
        return vec![format!(
            "{label}: FABRIQUE_WEB_LISTEN {listen} is not host:port"
        )];
    };
    if !["0.0.0.0", "[::]"].contains(&host) {
        problems.push(format!(
            "{label}: the site listens on {listen}, which neither its Service nor the kubelet reaches"
        ));
    }
    let port: u16 = port.parse().unwrap_or(0);
    if !c.ports.values().any(|p| *p == port) {
        problems.push(format!(
            "{label}: no containerPort {port} (FABRIQUE_WEB_LISTEN)"
        ));
    }
    if !c.is_site_alone() {
        // Beside the services: probed over gRPC, calling its own process.
        return problems;
    }
    for (which, probe) in [
        ("readiness", &c.http_readiness),
        ("liveness", &c.http_liveness),
    ] {
        match probe {
            None => problems.push(format!("{label}: no HTTP {which} probe")),
            Some(p) if p.port != port || p.path != "/healthz" => problems.push(format!(
                "{label}: {which} probe on {}:{} but the site answers /healthz on {port}",
                p.path, p.port
            )),
            Some(_) => {}
        }
    }
    for (variable, service) in SITE_READS {
        let Some(url) = c
            .env
            .get(*variable)
            .or_else(|| c.env.get("FABRIQUE_WEB_API_URL"))
        else {
            problems.push(format!(
                "{label}: neither {variable} nor FABRIQUE_WEB_API_URL says where {service} answers"
            ));
            continue;
        };
        if let Err(e) = serves(manifests, url, service) {
            problems.push(format!("{label}: {service} at {url}: {e}"));
        }
    }
    problems
}

/// The Deployments whose pods `service` (a Service object) selects.
fn workloads_behind<'a>(manifests: &'a Manifests, service: &Value) -> Vec<&'a Value> {
    let Some(wanted) = service.pointer("/spec/selector").and_then(Value::as_object) else {
        return Vec::new();
    };
    manifests
        .all("Deployment")
        .filter(|d| {
            d.pointer("/spec/template/metadata/labels")
                .and_then(Value::as_object)
                .is_some_and(|labels| wanted.iter().all(|(k, v)| labels.get(k) == Some(v)))
        })
        .collect()
}

/// Whether `url` names a rendered Service and port whose pods run `fabrique serve` with
/// the gRPC service `name`.
fn serves(manifests: &Manifests, url: &str, name: &str) -> Result<(), String> {
    let (host, port) = url_host_port(url).ok_or("no host:port")?;
    let service = manifests.service_port(&host, port)?;
    let serving = workloads_behind(manifests, service).into_iter().any(|d| {
        containers(manifests, d).is_ok_and(|found| {
            found.iter().any(|c| {
                !c.init
                    && c.is_fabrique()
                    && c.subcommand() == "serve"
                    && c.selection().services.iter().any(|s| s.name() == name)
            })
        })
    });
    if serving {
        Ok(())
    } else {
        Err(format!("Service {host} selects no pod serving {name}"))
    }
}

#[derive(Debug)]
enum TargetPort {
    Name(String),
    Number(u16),
}

fn strings_or_ports(service: &Value) -> Vec<TargetPort> {
    service
        .pointer("/spec/ports")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|p| match p.get("targetPort").or_else(|| p.get("port")) {
            Some(Value::String(name)) => TargetPort::Name(name.clone()),
            Some(number) => TargetPort::Number(port_of(number).unwrap_or(0)),
            None => TargetPort::Number(0),
        })
        .collect()
}

// ------------------------------------------------------------------ NATS from nats.conf

/// The rendered NATS StatefulSet's config and env, run as one node on loopback.
struct LocalNats {
    url: String,
    _dir: TempDir,
    _child: tokio::process::Child,
}

/// `nats.conf` for one node here: without its `cluster { … }` block (a node waiting for
/// routes that never come never offers JetStream) and with its JetStream store in
/// `store` (the file's `store_dir` wins over the command line's).
fn for_one_local_node(conf: &str, store: &Path) -> String {
    assert!(
        conf.lines()
            .any(|l| l.trim_start().starts_with("store_dir:")),
        "nats.conf keeps JetStream in no store_dir"
    );
    let mut out = String::new();
    let mut depth = 0usize;
    let mut skipping = false;
    for line in conf.lines() {
        let trimmed = line.trim_start();
        if !skipping && depth == 0 && trimmed.starts_with("cluster") && trimmed.contains('{') {
            skipping = true;
        }
        if skipping {
            depth += line.matches('{').count();
            depth = depth.saturating_sub(line.matches('}').count());
            if depth == 0 {
                skipping = false;
            }
            continue;
        }
        if trimmed.starts_with("store_dir:") {
            out.push_str(&format!("  store_dir: {:?}\n", store.display().to_string()));
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

impl LocalNats {
    async fn start(manifests: &Manifests) -> Self {
        let statefulset = manifests
            .get("StatefulSet", "nats")
            .expect("the NATS StatefulSet is rendered");
        let container = containers(manifests, statefulset)
            .unwrap_or_else(|e| panic!("{e}"))
            .into_iter()
            .find(|c| !c.init)
            .expect("a nats container");
        let config_map = statefulset
            .pointer("/spec/template/spec/volumes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find_map(|v| str_at(v, "/configMap/name"))
            .expect("a config volume");
        let conf = manifests
            .entry("ConfigMap", config_map, "nats.conf")
            .unwrap_or_else(|e| panic!("{e}"));
        let client_port = container.ports.get("client").copied().expect("client port");
        assert!(
            conf.contains(&format!("port: {client_port}")),
            "nats.conf does not listen on the container's client port {client_port}"
        );
        let dir = TempDir::new("k8s-nats");
        let path = dir.path().join("nats.conf");
        let local = for_one_local_node(&conf, &dir.path().join("store"));
        std::fs::write(&path, local).expect("write nats.conf");
        let port = free_port();
        let binary = std::env::var_os("FABRIQUE_TEST_NATS_SERVER").unwrap_or_else(|| {
            panic!("FABRIQUE_TEST_NATS_SERVER is not set: run the suite with ./scripts/test")
        });
        let log = std::fs::File::create(dir.path().join("nats.log")).expect("log file");
        // Command-line flags override the file: loopback and free ports.
        let child = tokio::process::Command::new(binary)
            .arg("--config")
            .arg(&path)
            .args(["-a", "127.0.0.1", "-p", &port.to_string()])
            .args(["-m", &free_port().to_string()])
            .env_clear()
            .envs(&container.env)
            .stdout(Stdio::null())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .expect("nats-server starts");
        let url = format!("nats://127.0.0.1:{port}");
        let admin = container
            .env
            .get("ADMIN_NATS_PASSWORD")
            .cloned()
            .expect("an admin password");
        let log_path = dir.path().join("nats.log");
        let nats = Self {
            url: url.clone(),
            _dir: dir,
            _child: child,
        };
        let ready = tokio::time::timeout(Duration::from_secs(20), async {
            loop {
                if let Ok(client) = async_nats::ConnectOptions::with_user_and_password(
                    "admin".into(),
                    admin.clone(),
                )
                .connect(&url)
                .await
                    && async_nats::jetstream::new(client)
                        .query_account()
                        .await
                        .is_ok()
                {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
        .await;
        assert!(
            ready.is_ok(),
            "nats-server from the rendered nats.conf did not offer JetStream:\n{}",
            std::fs::read_to_string(log_path).unwrap_or_default()
        );
        nats
    }

    async fn connect(
        &self,
        user: &str,
        password: &str,
        errors: Arc<Mutex<Vec<String>>>,
    ) -> async_nats::Client {
        let mut options =
            async_nats::ConnectOptions::with_user_and_password(user.into(), password.into());
        // A service's user receives replies on its own inbox prefix only, as the
        // services' FABRIQUE_NATS_INBOX_PREFIX sets it.
        if service_names().contains(&user) {
            options = options.custom_inbox_prefix(format!("_INBOX_{user}"));
        }
        options
            .event_callback(move |event| {
                let errors = errors.clone();
                async move {
                    if let async_nats::Event::ServerError(error) = event {
                        errors.lock().expect("errors").push(error.to_string());
                    }
                }
            })
            .connect(&self.url)
            .await
            .unwrap_or_else(|e| panic!("{user} connects to NATS: {e}"))
    }
}

fn free_port() -> u16 {
    fabrique_testkit::free_port()
}

// ------------------------------------------------------------------ the local run

/// One Deployment's pod, its ports mapped to loopback.
struct Pod {
    workload: String,
    /// containerPort → loopback port.
    ports: HashMap<u16, u16>,
    main: Vec<Container>,
    children: Vec<(String, tokio::process::Child, PathBuf)>,
}

impl Pod {
    /// The loopback address standing for `container_port`.
    fn address(&self, container_port: u16) -> std::net::SocketAddr {
        self.endpoint(container_port)
            .trim_start_matches("http://")
            .parse()
            .expect("a loopback address")
    }

    fn endpoint(&self, container_port: u16) -> String {
        let port = self.ports.get(&container_port).unwrap_or_else(|| {
            panic!(
                "{}: port {container_port} is not a containerPort of the pod",
                self.workload
            )
        });
        format!("http://127.0.0.1:{port}")
    }
}

/// Runs every fabrique Deployment of `manifests` on loopback.
struct LocalCluster {
    pods: Vec<Pod>,
    _databases: Vec<TestDatabase>,
    _dirs: TempDir,
}

/// The env a container gets here instead of in a cluster.
fn localize(
    container: &Container,
    manifests: &Manifests,
    cluster_ports: &HashMap<String, HashMap<u16, u16>>,
    databases: &HashMap<String, String>,
    nats: Option<&LocalNats>,
    volumes: &HashMap<String, PathBuf>,
) -> BTreeMap<String, String> {
    let mut env = container.env.clone();
    let ports = &cluster_ports[&container.workload];
    for variable in ["FABRIQUE_LISTEN", "FABRIQUE_WEB_LISTEN"] {
        let Some(listen) = env.get(variable).cloned() else {
            continue;
        };
        let port = listen_port(&listen).unwrap_or_else(|| panic!("{variable} host:port"));
        let local = ports.get(&port).unwrap_or_else(|| {
            panic!(
                "{}: {variable} port {port} is no containerPort",
                container.label()
            )
        });
        env.insert(variable.into(), format!("127.0.0.1:{local}"));
    }
    if let Some(url) = env.get("FABRIQUE_DATABASE_URL").cloned() {
        let local = databases
            .get(&url)
            .unwrap_or_else(|| panic!("{}: no database for {url}", container.label()));
        env.insert("FABRIQUE_DATABASE_URL".into(), local.clone());
    }
    if let Some(url) = env.get("FABRIQUE_NATS_URL").cloned() {
        let (host, port) = url_host_port(&url).expect("NATS URL host:port");
        manifests
            .service_port(&host, port)
            .unwrap_or_else(|e| panic!("{}: FABRIQUE_NATS_URL: {e}", container.label()));
        let nats = nats.expect("the overlay's NATS");
        env.insert("FABRIQUE_NATS_URL".into(), nats.url.clone());
        // One local node cannot hold three replicas.
        env.insert("FABRIQUE_NATS_STREAM_REPLICAS".into(), "1".into());
    }
    // The site's calls: to the loopback port of the pod behind the Service it names.
    let site_urls = SITE_READS.iter().map(|(variable, _)| *variable);
    for variable in site_urls.chain(["FABRIQUE_WEB_API_URL"]) {
        if let Some(url) = env.get(variable).cloned() {
            let local = loopback_url(manifests, &url, cluster_ports)
                .unwrap_or_else(|e| panic!("{}: {variable} {url}: {e}", container.label()));
            env.insert(variable.into(), local);
        }
    }
    // No collector runs here (tests/telemetry.rs covers the export).
    env.remove("OTEL_EXPORTER_OTLP_ENDPOINT");
    for (mount, dir) in volumes {
        for value in env.values_mut() {
            if value == mount || value.starts_with(&format!("{mount}/")) {
                *value = format!("{}{}", dir.display(), &value[mount.len()..]);
            }
        }
    }
    env
}

/// `url` (`http://<Service>:<port>`) as the loopback address of the pod behind that
/// Service's port here.
fn loopback_url(
    manifests: &Manifests,
    url: &str,
    cluster_ports: &HashMap<String, HashMap<u16, u16>>,
) -> Result<String, String> {
    let (host, port) = url_host_port(url).ok_or("no host:port")?;
    let scheme = url.split_once("://").map_or("http", |(scheme, _)| scheme);
    let service = manifests.service_port(&host, port)?;
    let target = service
        .pointer("/spec/ports")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|p| p.get("port").and_then(port_of) == Some(port))
        .and_then(|p| p.get("targetPort").or_else(|| p.get("port")))
        .cloned()
        .ok_or("no such port")?;
    for workload in workloads_behind(manifests, service) {
        let name = str_at(workload, "/metadata/name").unwrap_or_default();
        let Some(local_ports) = cluster_ports.get(name) else {
            continue;
        };
        let container_port = match &target {
            Value::String(named) => containers(manifests, workload)?
                .iter()
                .find_map(|c| c.ports.get(named).copied()),
            number => port_of(number),
        };
        if let Some(local) = container_port.and_then(|p| local_ports.get(&p)) {
            return Ok(format!("{scheme}://127.0.0.1:{local}"));
        }
    }
    Err(format!("no pod runs behind Service {host} port {port}"))
}

impl LocalCluster {
    async fn start(manifests: &Manifests, nats: Option<&LocalNats>) -> Self {
        let containers = fabrique_containers(manifests);
        let dirs = TempDir::new("k8s-run");
        // A fresh database for each PostgreSQL URL the Secret holds.
        let mut databases = HashMap::new();
        let mut owned = Vec::new();
        for c in &containers {
            if let Some(url) = c.env.get("FABRIQUE_DATABASE_URL")
                && url.starts_with("postgres")
                && !databases.contains_key(url)
            {
                let database = TestDatabase::create().await;
                databases.insert(url.clone(), database.url.clone());
                owned.push(database);
            }
        }
        let mut pods: Vec<Pod> = Vec::new();
        let mut workloads: Vec<String> = containers.iter().map(|c| c.workload.clone()).collect();
        workloads.dedup();
        // Every pod's ports first: a pod's env may name another's Service.
        let cluster_ports: HashMap<String, HashMap<u16, u16>> = workloads
            .iter()
            .map(|workload| {
                let ports = containers
                    .iter()
                    .filter(|c| &c.workload == workload)
                    .flat_map(|c| c.ports.values().copied())
                    .map(|p| (p, free_port()))
                    .collect();
                (workload.clone(), ports)
            })
            .collect();
        let mut init_runs = Vec::new();
        for workload in workloads {
            let of_pod: Vec<Container> = containers
                .iter()
                .filter(|c| c.workload == workload)
                .cloned()
                .collect();
            let ports = cluster_ports[&workload].clone();
            let mut volumes = HashMap::new();
            for mount in of_pod.iter().flat_map(|c| c.mounts.iter()) {
                let dir = dirs
                    .path()
                    .join(format!("{workload}{}", mount.replace('/', "_")));
                std::fs::create_dir_all(&dir).expect("volume folder");
                volumes.insert(mount.clone(), dir);
            }
            let mut main = Vec::new();
            for mut c in of_pod {
                c.env = localize(&c, manifests, &cluster_ports, &databases, nats, &volumes);
                if c.init {
                    init_runs.push(c);
                } else {
                    main.push(c);
                }
            }
            pods.push(Pod {
                workload,
                ports,
                main,
                children: Vec::new(),
            });
        }
        // Init containers: the pods of a rollout start together, so their migrations do.
        let runs = init_runs.into_iter().map(|c| async move {
            let output = tokio::process::Command::new(BIN)
                .args(&c.args)
                .env_clear()
                .envs(&c.env)
                .output()
                .await
                .expect("init container runs");
            assert!(
                output.status.success(),
                "init container {} ({:?}) failed:\n{}",
                c.label(),
                c.args,
                String::from_utf8_lossy(&output.stderr)
            );
        });
        futures::future::join_all(runs).await;
        for pod in &mut pods {
            for c in &pod.main {
                let log = dirs.path().join(format!("{}-{}.log", c.workload, c.name));
                let child = tokio::process::Command::new(BIN)
                    .args(&c.args)
                    .env_clear()
                    .envs(&c.env)
                    .stdout(Stdio::null())
                    .stderr(std::fs::File::create(&log).expect("log file"))
                    .kill_on_drop(true)
                    .spawn()
                    .expect("container starts");
                pod.children.push((c.label(), child, log));
            }
        }
        let cluster = Self {
            pods,
            _databases: owned,
            _dirs: dirs,
        };
        cluster.wait_for_probes().await;
        cluster
    }

    fn logs(&self) -> String {
        let mut all = String::new();
        for pod in &self.pods {
            for (label, _, log) in &pod.children {
                let text = std::fs::read_to_string(log).unwrap_or_default();
                let tail: Vec<&str> = text.lines().rev().take(15).collect();
                all.push_str(&format!("--- {label}\n"));
                for line in tail.into_iter().rev() {
                    all.push_str(line);
                    all.push('\n');
                }
            }
        }
        all
    }

    /// Every declared readiness and liveness probe answers: SERVING over gRPC, a
    /// success over HTTP (as the kubelet counts it: 200 to 399).
    async fn wait_for_probes(&self) {
        for pod in &self.pods {
            for c in &pod.main {
                for probe in [&c.http_readiness, &c.http_liveness].into_iter().flatten() {
                    let site = pod.address(probe.port);
                    let answered = tokio::time::timeout(Duration::from_secs(60), async {
                        loop {
                            if http_status(site, &probe.path)
                                .await
                                .is_some_and(|status| (200..400).contains(&status))
                            {
                                return;
                            }
                            tokio::time::sleep(Duration::from_millis(100)).await;
                        }
                    })
                    .await;
                    assert!(
                        answered.is_ok(),
                        "{}: the HTTP probe {} on {site} never succeeded\n{}",
                        c.label(),
                        probe.path,
                        self.logs()
                    );
                }
                for probe in [&c.readiness, &c.liveness].into_iter().flatten() {
                    let endpoint = pod.endpoint(probe.port);
                    let serving = tokio::time::timeout(
                        Duration::from_secs(60),
                        probe_until_serving(&endpoint, &probe.service),
                    )
                    .await;
                    assert!(
                        serving.is_ok(),
                        "{}: the gRPC probe {:?} on {endpoint} never answered SERVING\n{}",
                        c.label(),
                        probe.service,
                        self.logs()
                    );
                }
            }
        }
    }

    /// The endpoint of the pod whose readiness probe names `grpc_service`, else of the
    /// pod serving every service (readiness on "").
    fn endpoint_of(&self, grpc_service: &str) -> String {
        let by_name = |wanted: &str| {
            self.pods.iter().find_map(|pod| {
                pod.main.iter().find_map(|c| {
                    c.readiness
                        .as_ref()
                        .filter(|p| p.service == wanted)
                        .map(|p| pod.endpoint(p.port))
                })
            })
        };
        by_name(grpc_service)
            .or_else(|| by_name(""))
            .unwrap_or_else(|| panic!("no pod is ready for {grpc_service}"))
    }

    /// SIGTERM to every container; each stops cleanly within its grace period.
    async fn terminate(mut self) {
        for pod in &mut self.pods {
            for (label, child, _) in &mut pod.children {
                let pid = child.id().expect("still running").to_string();
                let sent = std::process::Command::new("kill")
                    .args(["-TERM", &pid])
                    .status()
                    .expect("kill");
                assert!(sent.success(), "SIGTERM to {label}");
            }
        }
        let grace = |pod: &Pod| {
            Duration::from_secs(pod.main.first().and_then(|c| c.grace_seconds).unwrap_or(30))
        };
        let mut failures = Vec::new();
        for pod in &mut self.pods {
            let grace = grace(pod);
            for (label, child, _) in &mut pod.children {
                match tokio::time::timeout(grace, child.wait()).await {
                    Ok(Ok(status)) if status.success() => {}
                    Ok(status) => failures.push(format!("{label} exited with {status:?}")),
                    Err(_) => {
                        failures.push(format!("{label} outlived its grace period ({grace:?})"))
                    }
                }
            }
        }
        assert!(failures.is_empty(), "{failures:?}\n{}", self.logs());
    }
}

/// The status of `GET path` on `site`, if it answers at all (a probe must not panic on
/// a server not listening yet).
async fn http_status(site: std::net::SocketAddr, path: &str) -> Option<u16> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut stream = tokio::net::TcpStream::connect(site).await.ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {site}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut head = Vec::new();
    stream.read_to_end(&mut head).await.ok()?;
    let line = String::from_utf8_lossy(&head);
    line.split_whitespace().nth(1)?.parse().ok()
}

async fn probe_until_serving(endpoint: &str, service: &str) {
    loop {
        if let Ok(channel) = Channel::from_shared(endpoint.to_string())
            .expect("endpoint")
            .connect()
            .await
        {
            let answer = tonic_health::pb::health_client::HealthClient::new(channel)
                .check(tonic_health::pb::HealthCheckRequest {
                    service: service.to_string(),
                })
                .await;
            if answer.is_ok_and(|r| r.get_ref().status == ServingStatus::Serving as i32) {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

// ------------------------------------------------------------------ the flow

/// `fabrique token` as an operator runs it in a pod (`kubectl exec deploy/members --
/// fabrique token …`): with that container's environment, so with the secret, issuer
/// and audience the manifests give the services (or, on the embedded default, the
/// secret generated on the pod's volume). `extra` flags come last and win.
async fn token(cluster: &LocalCluster, sub: &str, role: &str, extra: &[&str]) -> String {
    // A services' pod: the site's checks no token (it signs its own, for the people
    // signed in to it).
    let env = &cluster
        .pods
        .iter()
        .flat_map(|pod| &pod.main)
        .find(|c| c.readiness.is_some())
        .expect("a pod serving gRPC")
        .env;
    let output = tokio::process::Command::new(BIN)
        .args(["token", "--sub", sub, "--role", role])
        .args(extra)
        .env_clear()
        .envs(env)
        .output()
        .await
        .expect("fabrique token runs");
    assert!(
        output.status.success(),
        "fabrique token: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .expect("UTF-8")
        .trim()
        .to_string()
}

async fn channel(endpoint: &str) -> Channel {
    Channel::from_shared(endpoint.to_string())
        .expect("endpoint")
        .connect()
        .await
        .unwrap_or_else(|e| panic!("connect to {endpoint}: {e}"))
}

/// Retries `call` while it fails with FAILED_PRECONDITION (what a service answers while
/// the events it needs have not reached it yet); fails with the pods' logs after 30 s.
async fn once_known<T, F, Fut>(cluster: &LocalCluster, what: &str, mut call: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, tonic::Status>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        match call().await {
            Ok(value) => return value,
            Err(status) if status.code() == Code::FailedPrecondition => {}
            Err(status) => panic!("{what}: {status:?}\n{}", cluster.logs()),
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}\n{}",
            cluster.logs()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The contact e-mail of the flow's member: the members service shows it to that member
/// and to admins only.
const FLOW_CONTACT_EMAIL: &str = "lucie.fabre@fablab-thiers.example.fr";

/// A FabLab joins (members), lists its workshop (registry, once members' event reached
/// it), lends a laser cutter there (sharing, once members' and registry's events did),
/// and hosts a project (projects, likewise). Returns the member's name, `members/<id>`.
async fn alliance_flow(cluster: &LocalCluster) -> String {
    use members_proto::members_service_client::MembersServiceClient;
    use projects_proto::projects_service_client::ProjectsServiceClient;
    use registry_proto::registry_service_client::RegistryServiceClient;
    use sharing_proto::sharing_service_client::SharingServiceClient;

    let admin = token(cluster, "admin", "admin", &[]).await;
    let mut members = MembersServiceClient::new(
        channel(&cluster.endpoint_of("fabrique.members.v1.MembersService")).await,
    );
    let member = members
        .create_member(authed(
            members_proto::CreateMemberRequest {
                member: Some(members_proto::Member {
                    display_name: "FabLab de Thiers".into(),
                    kind: members_proto::MemberKind::Association as i32,
                    contacts: vec![members_proto::Contact {
                        full_name: "Lucie Fabre".into(),
                        role: members_proto::ContactRole::Other as i32,
                        email: FLOW_CONTACT_EMAIL.into(),
                        title: String::new(),
                    }],
                    ..Default::default()
                }),
                request_id: String::new(),
            },
            &admin,
        ))
        .await
        .expect("the FabLab applies")
        .into_inner();
    members
        .approve_member(authed(
            members_proto::ApproveMemberRequest {
                name: member.name.clone(),
                ..Default::default()
            },
            &admin,
        ))
        .await
        .expect("an admin approves it");
    let fablab = token(
        cluster,
        member.name.trim_start_matches("members/"),
        "member",
        &[],
    )
    .await;

    let registry = RegistryServiceClient::new(
        channel(&cluster.endpoint_of("fabrique.registry.v1.RegistryService")).await,
    );
    let request_id = uuid::Uuid::new_v4().to_string();
    let place = once_known(cluster, "the registry to know the member", || {
        let mut registry = registry.clone();
        let request = authed(
            registry_proto::CreatePlaceRequest {
                place: Some(registry_proto::Place {
                    display_name: "Atelier du FabLab de Thiers".into(),
                    kinds: vec![registry_proto::PlaceKind::Fablab as i32],
                    operator: member.name.clone(),
                    location: Some(registry_proto::Location {
                        latitude: 45.8563,
                        longitude: 3.5477,
                    }),
                    ..Default::default()
                }),
                request_id: request_id.clone(),
            },
            &fablab,
        );
        async move {
            registry
                .create_place(request)
                .await
                .map(tonic::Response::into_inner)
        }
    })
    .await;
    assert_eq!(place.operator, member.name);

    let sharing = SharingServiceClient::new(
        channel(&cluster.endpoint_of("fabrique.sharing.v1.SharingService")).await,
    );
    let request_id = uuid::Uuid::new_v4().to_string();
    let cutter = once_known(
        cluster,
        "the sharing service to know the member and the place",
        || {
            let mut sharing = sharing.clone();
            let request = authed(
                sharing_proto::CreateResourceRequest {
                    resource: Some(sharing_proto::Resource {
                        kind: sharing_proto::ResourceKind::Equipment as i32,
                        title: "Découpeuse laser".into(),
                        place: place.name.clone(),
                        ..Default::default()
                    }),
                    request_id: request_id.clone(),
                },
                &fablab,
            );
            async move {
                sharing
                    .create_resource(request)
                    .await
                    .map(tonic::Response::into_inner)
            }
        },
    )
    .await;
    assert_eq!(cutter.owner, member.name);
    assert_eq!(cutter.place, place.name);

    let projects = ProjectsServiceClient::new(
        channel(&cluster.endpoint_of("fabrique.projects.v1.ProjectsService")).await,
    );
    let request_id = uuid::Uuid::new_v4().to_string();
    let project = once_known(
        cluster,
        "the projects service to know the member and the place",
        || {
            let mut projects = projects.clone();
            let request = authed(
                projects_proto::CreateProjectRequest {
                    project: Some(projects_proto::Project {
                        title: "Réparer plutôt que jeter".into(),
                        summary: "Ateliers de réparation mensuels".into(),
                        themes: vec![projects_proto::Theme::CircularEconomy as i32],
                        host_place: place.name.clone(),
                        ..Default::default()
                    }),
                    request_id: request_id.clone(),
                },
                &fablab,
            );
            async move {
                projects
                    .create_project(request)
                    .await
                    .map(tonic::Response::into_inner)
            }
        },
    )
    .await;
    assert_eq!(project.lead, member.name);
    assert_eq!(project.host_place, place.name);
    member.name
}

// ------------------------------------------------------------------ tests

/// Acceptance: the production overlay runs as declared — four Deployments, NATS from
/// its own config with a user per service, and the site's Deployment — and a flow
/// crosses all four services, with the Secret the operator created
/// (deploy/k8s/create-secrets); the site, started from its own env (no database, no
/// NATS; the tokens' secret and its session key from that Secret), answers its probes,
/// shows what the flow made, read from each service through its Service, and lets the
/// member sign in with a one-time link and see what only a token acting for it gets. A
/// token for another audience or issuer, or for none, is refused by services started
/// from the overlay's own env.
#[tokio::test]
async fn the_production_overlay_runs_as_declared() {
    let manifests = render_with_operator_secret("production");
    let found = problems(&manifests);
    assert!(
        found.is_empty(),
        "the manifests disagree with the binary:\n{found:#?}"
    );
    let names: BTreeSet<String> = manifests
        .all("Deployment")
        .filter_map(|d| str_at(d, "/metadata/name").map(str::to_string))
        .collect();
    for service in service_names() {
        assert!(
            names.contains(service),
            "no Deployment {service}: {names:?}"
        );
    }
    let config = manifests
        .entries("ConfigMap", "fabrique-config")
        .expect("fabrique-config");
    for checked in ["FABRIQUE_JWT_ISSUER", "FABRIQUE_JWT_AUDIENCE"] {
        assert!(
            config.get(checked).is_some_and(|v| !v.is_empty()),
            "the production overlay leaves {checked} unchecked"
        );
    }
    let nats = LocalNats::start(&manifests).await;
    let cluster = LocalCluster::start(&manifests, Some(&nats)).await;
    assert_eq!(
        cluster.pods.len(),
        service_names().len() + 1,
        "one pod per service, one for the site"
    );
    let member = alliance_flow(&cluster).await;
    site_shows_the_flow(&cluster).await;
    the_member_signs_in_to_the_site(&cluster, &member).await;

    use members_proto::members_service_client::MembersServiceClient;
    let mut members = MembersServiceClient::new(
        channel(&cluster.endpoint_of("fabrique.members.v1.MembersService")).await,
    );
    let list = members_proto::ListMembersRequest {
        page_size: 10,
        ..Default::default()
    };
    let right = token(&cluster, "admin", "admin", &[]).await;
    members
        .list_members(authed(list.clone(), &right))
        .await
        .expect("the overlay's own issuer and audience");
    for (why, flags) in [
        (
            "another audience",
            &["--audience", "another-application"][..],
        ),
        ("no audience", &["--audience", ""][..]),
        (
            "another issuer",
            &["--issuer", "https://sso.elsewhere.example"][..],
        ),
    ] {
        let wrong = token(&cluster, "admin", "admin", flags).await;
        let refused = members
            .list_members(authed(list.clone(), &wrong))
            .await
            .expect_err(why);
        assert_eq!(refused.code(), Code::Unauthenticated, "{why}: {refused:?}");
    }
    cluster.terminate().await;
}

/// The site's pod: its http port's loopback address, and its container (env localized).
fn site_pod(cluster: &LocalCluster) -> (std::net::SocketAddr, &Container) {
    let pod = cluster
        .pods
        .iter()
        .find(|pod| pod.main.iter().any(Container::is_site_alone))
        .expect("the site's pod");
    let container = pod
        .main
        .iter()
        .find(|c| c.is_site_alone())
        .expect("the site's container");
    let http = container
        .ports
        .get("http")
        .copied()
        .expect("an http containerPort");
    (pod.address(http), container)
}

/// The site's pod, on its http port: its health, and the pages of each service it reads
/// showing what [`alliance_flow`] made.
async fn site_shows_the_flow(cluster: &LocalCluster) {
    let (site, _) = site_pod(cluster);
    // The flow's place, proposed by its member, is public once an admin approves it.
    use registry_proto::registry_service_client::RegistryServiceClient;
    let admin = token(cluster, "admin", "admin", &[]).await;
    let mut registry = RegistryServiceClient::new(
        channel(&cluster.endpoint_of("fabrique.registry.v1.RegistryService")).await,
    );
    let proposed = registry
        .list_places(authed(
            registry_proto::ListPlacesRequest {
                page_size: 10,
                states: vec![registry_proto::PlaceState::Proposed as i32],
                ..Default::default()
            },
            &admin,
        ))
        .await
        .expect("the proposed places")
        .into_inner()
        .places;
    let [place] = &proposed[..] else {
        panic!("the flow proposed one place: {proposed:?}");
    };
    registry
        .approve_place(authed(
            registry_proto::ApprovePlaceRequest {
                name: place.name.clone(),
                etag: place.etag.clone(),
            },
            &admin,
        ))
        .await
        .expect("an admin approves the place");
    let health = fabrique_testkit::http::get(site, "/healthz").await;
    assert_eq!((health.status, health.body.trim()), (200, "ok"));
    for (path, shown) in [
        ("/lieux", "Atelier du FabLab de Thiers"),
        ("/allies", "FabLab de Thiers"),
        ("/programmes", "Programmes de financement"),
    ] {
        let page = fabrique_testkit::http::get(site, path).await;
        assert_eq!(
            page.status,
            200,
            "{path}: {}\n{}",
            page.body,
            cluster.logs()
        );
        assert!(
            page.text().contains(shown),
            "{path} does not show {shown:?}:\n{}",
            page.body
        );
    }
}

/// Sign-in on the site's pod as the overlay runs it: `fabrique login-link --member`, run
/// with that pod's env (`kubectl exec deploy/web -- fabrique login-link …`), signs a
/// one-time link with the session key from the operator's Secret, for the overlay's
/// public URL; pressed on the pod, it opens a session (a `__Host-` cookie: the URL is
/// https), whose "Espace membre" shows the member's contact e-mail. The members pod
/// gives that e-mail only to a token acting for the member: the site's, signed with the
/// shared secret and the overlay's issuer and audience, which that pod checks.
async fn the_member_signs_in_to_the_site(cluster: &LocalCluster, member: &str) {
    use fabrique_testkit::http::{get, get_with_cookie, post_form};
    let (site, container) = site_pod(cluster);
    let public_url = container
        .env
        .get("FABRIQUE_WEB_PUBLIC_URL")
        .expect("the site's public URL");
    let cwd = TempDir::new("k8s-login-link");
    let output = tokio::process::Command::new(BIN)
        .args(["login-link", "--member", member])
        .env_clear()
        .envs(&container.env)
        .current_dir(cwd.path())
        .output()
        .await
        .expect("fabrique login-link runs");
    assert!(
        output.status.success(),
        "fabrique login-link in the site's pod: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let link = String::from_utf8(output.stdout).expect("UTF-8");
    let token = link
        .trim()
        .strip_prefix(&format!("{public_url}/connexion/lien/"))
        .unwrap_or_else(|| panic!("a link to the site's public URL {public_url}: {link}"))
        .to_string();

    let same_site = [("Sec-Fetch-Site", "same-origin")];
    let signed_in = post_form(site, "/connexion/lien", &same_site, &[("jeton", &token)]).await;
    assert_eq!(
        signed_in.status,
        303,
        "{}\n{}",
        signed_in.body,
        cluster.logs()
    );
    assert_eq!(signed_in.header("location"), Some("/espace"));
    let set_cookie = signed_in.header("set-cookie").expect("a session");
    assert!(
        set_cookie.starts_with("__Host-") && set_cookie.contains("Secure"),
        "an https site's cookie: {set_cookie}"
    );
    let cookie = signed_in.cookie().expect("a cookie");

    let space = get_with_cookie(site, "/espace", &cookie).await;
    assert_eq!(space.status, 200, "{}\n{}", space.body, cluster.logs());
    assert!(
        space
            .words()
            .contains("Vous agissez au nom de FabLab de Thiers"),
        "{}",
        space.body
    );
    assert!(
        space.body.contains(FLOW_CONTACT_EMAIL),
        "the members pod did not give the site's token the member's contacts:\n{}\n{}",
        space.body,
        cluster.logs()
    );
    let id = member.strip_prefix("members/").expect("members/<id>");
    let public = get(site, &format!("/allies/{id}")).await;
    assert_eq!(public.status, 200, "{}", public.body);
    assert!(
        !public.body.contains(FLOW_CONTACT_EMAIL),
        "the public page hides the contact's e-mail"
    );
    // Used once.
    let again = post_form(site, "/connexion/lien", &same_site, &[("jeton", &token)]).await;
    assert_eq!(again.status, 410, "{}", again.body);
}

/// The single-node overlay: every service in one process, SQLite on its volume, the
/// in-process bus; the same flow, with the JWT secret the process generated on its
/// volume at first start (the overlay holds none).
#[tokio::test]
async fn the_single_node_overlay_runs_as_declared() {
    let manifests = render("single-node");
    let found = problems(&manifests);
    assert!(
        found.is_empty(),
        "the manifests disagree with the binary:\n{found:#?}"
    );
    assert!(
        manifests.get("StatefulSet", "nats").is_none(),
        "single-node runs without NATS"
    );
    let cluster = LocalCluster::start(&manifests, None).await;
    assert_eq!(cluster.pods.len(), 1, "one pod");
    let env = &cluster.pods[0].main[0].env;
    assert!(!env.contains_key("FABRIQUE_JWT_SECRET"));
    let data = Path::new(env.get("FABRIQUE_DATA_DIR").expect("a data dir"));
    let generated = std::fs::read_to_string(data.join("jwt-secret"))
        .expect("the secret generated on the volume");
    assert!(generated.trim().len() >= 32);
    alliance_flow(&cluster).await;
    // The site, on the pod's http port behind the Service, lists the flow's places.
    let http = manifests
        .service_port("fabrique", 80)
        .map(|_| ())
        .and_then(|()| {
            cluster.pods[0]
                .main
                .iter()
                .find_map(|c| c.ports.get("http").copied())
                .ok_or_else(|| "no http containerPort".to_string())
        })
        .unwrap_or_else(|e| panic!("{e}"));
    let site: std::net::SocketAddr = cluster.pods[0]
        .endpoint(http)
        .trim_start_matches("http://")
        .parse()
        .expect("a local address");
    let page = fabrique_testkit::http::get(site, "/lieux").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Lieux de la transition"));
    cluster.terminate().await;
}

/// The values `base/common/secret.example.yaml` published until December 2026: an
/// overlay that still held one would hand out a known key.
const FORMER_EXAMPLE_VALUES: &[&str] = &[
    "example-jwt-secret-change-me-0123456789abcdef",
    "example-members",
    "example-registry",
    "example-sharing",
    "example-projects",
    "example-admin-nats",
    "example-postgres",
];

fn strings_in(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| strings_in(v, out)),
        Value::Object(map) => map.values().for_each(|v| strings_in(v, out)),
        _ => {}
    }
}

/// Acceptance: no overlay holds a secret value. Applying one never creates or replaces
/// `fabrique-secrets`: the overlays meant for production reference it, the single-node
/// one needs none.
#[test]
fn no_overlay_holds_a_secret_value() {
    for overlay in ["production", "small", "single-node"] {
        let manifests = render(overlay);
        for secret in manifests.all("Secret") {
            assert!(
                secret.get("data").is_none() && secret.get("stringData").is_none(),
                "{overlay} renders Secret {:?} with values",
                str_at(secret, "/metadata/name")
            );
        }
        let mut strings = Vec::new();
        manifests
            .objects
            .iter()
            .for_each(|o| strings_in(o, &mut strings));
        for text in &strings {
            for example in FORMER_EXAMPLE_VALUES {
                assert!(
                    !text.contains(example),
                    "{overlay} still holds the public example value {example:?}"
                );
            }
        }
    }
}

/// The keys of fabrique-secrets that create-secrets writes only when the operator gives
/// their value, and the variable that gives it: the pods read them as optional.
const OPERATOR_GIVEN_KEYS: &[(&str, &str)] = &[
    ("web-oidc-client-secret", "WEB_OIDC_CLIENT_SECRET"),
    ("smtp-url", "SMTP_URL"),
];

/// The Secrets from deploy/k8s/create-secrets have every key the overlays read, each
/// Secret a container takes whole (`envFrom`) exists with what its program reads from
/// it, and each run makes new values. A key read as optional is one the operator gives
/// (the site's OpenID client secret): created with the value given, never made up.
#[test]
fn create_secrets_gives_every_key_the_overlays_read() {
    for (overlay, with_postgres) in [("production", false), ("small", true)] {
        let manifests = render(overlay);
        let mut read = BTreeSet::new();
        for workload in manifests
            .all("Deployment")
            .chain(manifests.all("StatefulSet"))
        {
            let mut refs = Vec::new();
            collect_secret_refs(workload, &mut refs);
            read.extend(refs);
        }
        assert!(!read.is_empty(), "{overlay} reads no secret");
        let created = operator_secrets(with_postgres);
        for (name, key, optional) in &read {
            let keys = secret_keys(&created, name);
            assert!(
                !keys.is_empty(),
                "{overlay} reads Secret {name}, which is not created"
            );
            if *optional {
                assert!(
                    OPERATOR_GIVEN_KEYS.iter().any(|(k, _)| k == key),
                    "{overlay} reads {key} of {name} as optional: the operator gives no such key"
                );
                assert!(
                    !keys.contains(key),
                    "create-secrets makes up {key} of {name}, which the operator did not give"
                );
                continue;
            }
            assert!(
                key.is_empty() || keys.contains(key),
                "{overlay} reads {key} of {name}, which is not created"
            );
        }
        // The operator's own values, given in the environment, are in fabrique-secrets as
        // given (a quote and spaces included).
        let given: Vec<(&str, String)> = OPERATOR_GIVEN_KEYS
            .iter()
            .map(|(_, variable)| (*variable, format!("given {variable} l'opérateur")))
            .collect();
        let given_env: Vec<(&str, &str)> = given.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let with_given = operator_secrets_with(with_postgres, &given_env);
        for ((key, _), (_, value)) in OPERATOR_GIVEN_KEYS.iter().zip(&given) {
            assert!(
                read.iter()
                    .any(|(name, k, optional)| name == "fabrique-secrets" && k == key && *optional),
                "{overlay} does not read {key}"
            );
            assert_eq!(
                with_given
                    .iter()
                    .find(|s| str_at(s, "/metadata/name") == Some("fabrique-secrets"))
                    .and_then(|s| s.pointer(&format!("/stringData/{key}")))
                    .and_then(Value::as_str),
                Some(value.as_str()),
                "{key}"
            );
        }
        // What reads a whole Secret: nats.conf one password per user, init-databases.sh
        // one per service.
        let nats_users = secret_keys(&created, "fabrique-nats-users");
        let config_map = manifests
            .all("ConfigMap")
            .filter_map(|c| str_at(c, "/metadata/name"))
            .find(|name| name.starts_with("nats-config"))
            .expect("nats.conf is rendered");
        let conf = manifests
            .entry("ConfigMap", config_map, "nats.conf")
            .expect("nats.conf is rendered");
        for variable in conf
            .split('$')
            .skip(1)
            .filter_map(|rest| {
                rest.split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
                    .next()
            })
            .filter(|v| v.ends_with("_NATS_PASSWORD"))
        {
            assert!(
                nats_users.contains(variable),
                "nats.conf reads ${variable}, which fabrique-nats-users lacks"
            );
        }
        if with_postgres {
            let postgres = secret_keys(&created, "fabrique-postgres");
            assert!(postgres.contains("POSTGRES_PASSWORD"));
            for service in service_names() {
                assert!(
                    postgres.contains(&format!("{}_DB_PASSWORD", service.to_uppercase())),
                    "no database password for {service}"
                );
            }
        }
        let again = operator_secrets(with_postgres);
        let key = |secrets: &[Value], key: &str| {
            secrets
                .iter()
                .find_map(|s| s.pointer(&format!("/stringData/{key}")))
                .and_then(Value::as_str)
                .unwrap_or_else(|| panic!("no {key}"))
                .to_string()
        };
        for generated in ["jwt-secret", "web-session-key"] {
            assert!(
                key(&created, generated).len() >= 32,
                "{generated}: 32 bytes or more"
            );
            assert_ne!(
                key(&created, generated),
                key(&again, generated),
                "each run generates its own {generated}"
            );
        }
        assert_ne!(
            key(&created, "jwt-secret"),
            key(&created, "web-session-key"),
            "one key for each use"
        );
    }
}

/// Every Secret a workload reads, as `(name, key, optional)`; a key of "" for a Secret
/// read whole (`envFrom`); optional when the pod starts without it.
fn collect_secret_refs(value: &Value, out: &mut Vec<(String, String, bool)>) {
    match value {
        Value::Object(map) => {
            let optional = |r: &Value| r.get("optional") == Some(&Value::Bool(true));
            if let Some(r) = map.get("secretKeyRef") {
                out.push((
                    str_at(r, "/name").unwrap_or_default().to_string(),
                    str_at(r, "/key").unwrap_or_default().to_string(),
                    optional(r),
                ));
            }
            if let Some(r) = map.get("secretRef") {
                out.push((
                    str_at(r, "/name").unwrap_or_default().to_string(),
                    String::new(),
                    optional(r),
                ));
            }
            map.values().for_each(|v| collect_secret_refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_secret_refs(v, out)),
        _ => {}
    }
}

/// What CI catches: a probe moved off the listen port, an env var renamed, a Service
/// aimed at a port no container has, a grace period shorter than the drain.
#[test]
fn changed_probe_ports_and_env_names_are_caught() {
    let pristine = render_with_operator_secret("production");
    assert!(problems(&pristine).is_empty(), "{:#?}", problems(&pristine));

    let mut m = render_with_operator_secret("production");
    *m.get_mut("Deployment", "members")
        .pointer_mut("/spec/template/spec/containers/0/readinessProbe/grpc/port")
        .expect("a readiness port") = Value::from(50052);
    let found = problems(&m);
    assert!(
        found
            .iter()
            .any(|p| p.starts_with("members/members: readiness probe on port 50052")),
        "{found:#?}"
    );

    let mut m = render_with_operator_secret("production");
    let env = m
        .get_mut("Deployment", "registry")
        .pointer_mut("/spec/template/spec/containers/0/env")
        .and_then(Value::as_array_mut)
        .expect("env");
    for var in env.iter_mut() {
        if var["name"] == "FABRIQUE_NATS_INBOX_PREFIX" {
            var["name"] = Value::from("FABRIQUE_NATS_INBOX");
        }
    }
    let found = problems(&m);
    assert!(
        found
            .iter()
            .any(|p| p
                == "registry/registry: env FABRIQUE_NATS_INBOX is not read by `fabrique serve`"),
        "{found:#?}"
    );

    let mut m = render_with_operator_secret("production");
    let data = m
        .get_mut("ConfigMap", "fabrique-config")
        .get_mut("data")
        .and_then(Value::as_object_mut)
        .expect("data");
    let listen = data.remove("FABRIQUE_LISTEN").expect("FABRIQUE_LISTEN");
    data.insert("FABRIQUE_LISTEN_ADDRESS".into(), listen);
    let found = problems(&m);
    assert!(
        found
            .iter()
            .any(|p| p
                .contains("env FABRIQUE_LISTEN_ADDRESS (envFrom) is read by no fabrique command")),
        "{found:#?}"
    );
    assert!(
        found
            .iter()
            .any(|p| p.contains("FABRIQUE_LISTEN is not set")),
        "{found:#?}"
    );

    let mut m = render_with_operator_secret("production");
    *m.get_mut("Service", "sharing")
        .pointer_mut("/spec/ports/0/targetPort")
        .expect("targetPort") = Value::from("http");
    let found = problems(&m);
    assert!(
        found
            .iter()
            .any(|p| p.starts_with("Service sharing: target port")),
        "{found:#?}"
    );

    let mut m = render_with_operator_secret("production");
    *m.get_mut("Deployment", "projects")
        .pointer_mut("/spec/template/spec/terminationGracePeriodSeconds")
        .expect("grace") = Value::from(5);
    let found = problems(&m);
    assert!(
        found
            .iter()
            .any(|p| p.starts_with("projects/projects: terminationGracePeriodSeconds")),
        "{found:#?}"
    );

    // The site: a probe off /healthz, a service read at a Service that does not serve
    // it or at none, a listen address its Service cannot reach.
    let site_env = |m: &mut Manifests, name: &str, value: &str| {
        let env = m
            .get_mut("Deployment", "web")
            .pointer_mut("/spec/template/spec/containers/0/env")
            .and_then(Value::as_array_mut)
            .expect("env");
        for var in env.iter_mut() {
            if var["name"] == name {
                var["value"] = Value::from(value);
            }
        }
    };
    let mut m = render_with_operator_secret("production");
    *m.get_mut("Deployment", "web")
        .pointer_mut("/spec/template/spec/containers/0/livenessProbe/httpGet/path")
        .expect("a liveness path") = Value::from("/");
    let found = problems(&m);
    assert!(
        found
            .iter()
            .any(|p| p.starts_with("web/web: liveness probe on /:8080")),
        "{found:#?}"
    );
    let mut m = render_with_operator_secret("production");
    site_env(&mut m, "FABRIQUE_WEB_MEMBERS_URL", "http://registry:50051");
    site_env(&mut m, "FABRIQUE_WEB_PROJECTS_URL", "http://project:50051");
    site_env(&mut m, "FABRIQUE_WEB_LISTEN", "127.0.0.1:8080");
    let found = problems(&m);
    for expected in [
        "web/web: members at http://registry:50051: Service registry selects no pod serving members",
        "web/web: projects at http://project:50051: no Service named \"project\"",
        "web/web: the site listens on 127.0.0.1:8080, which neither its Service nor the kubelet reaches",
    ] {
        assert!(
            found.iter().any(|p| p == expected),
            "{expected}: {found:#?}"
        );
    }
}

/// Acceptance: with the generated config, a service's NATS user cannot publish on
/// another service's subjects (nor listen to them), and can on its own.
#[tokio::test]
async fn a_service_s_nats_user_publishes_only_its_own_subjects() {
    let manifests = render_with_operator_secret("production");
    let nats = LocalNats::start(&manifests).await;
    let secrets = manifests
        .entries("Secret", "fabrique-nats-users")
        .expect("fabrique-nats-users");
    let password = |user: &str| {
        secrets
            .get(&format!("{}_NATS_PASSWORD", user.to_uppercase()))
            .cloned()
            .unwrap_or_else(|| panic!("no password for {user}"))
    };
    let admin = nats
        .connect("admin", &password("admin"), Arc::default())
        .await;
    let mut seen = admin
        .subscribe("fabrique.>")
        .await
        .expect("admin subscribes");
    admin.flush().await.expect("flush");

    let services = service_names();
    for &user in &services {
        let errors: Arc<Mutex<Vec<String>>> = Arc::default();
        let client = nats.connect(user, &password(user), errors.clone()).await;
        for other in services.iter().filter(|o| **o != user) {
            let forbidden = format!("fabrique.{other}.intrusion.attempted");
            client
                .publish(forbidden.clone(), "de la part de {user}".into())
                .await
                .expect("publish is sent");
            client.flush().await.expect("flush");
        }
        let own = format!("fabrique.{user}.check.sent");
        client
            .publish(own.clone(), "ok".into())
            .await
            .expect("publish");
        client.flush().await.expect("flush");
        // One publisher's messages reach a subscriber in order: had a forbidden one
        // gone through, it would come before this one.
        let first =
            tokio::time::timeout(Duration::from_secs(5), futures::StreamExt::next(&mut seen))
                .await
                .expect("the admin receives the allowed message")
                .expect("subscription open");
        assert_eq!(
            first.subject.as_str(),
            own,
            "{user} published on another's subject"
        );
        fabrique_testkit::eventually("the permission errors", Duration::from_secs(5), || {
            let count = errors.lock().expect("errors").len();
            std::future::ready((count >= services.len() - 1).then_some(()))
        })
        .await;
        let reported = errors.lock().expect("errors").clone();
        for other in services.iter().filter(|o| **o != user) {
            assert!(
                reported
                    .iter()
                    .any(|e| e.to_lowercase().contains("permissions violation")
                        && e.contains(&format!("fabrique.{other}.intrusion.attempted"))),
                "{user} on fabrique.{other}: {reported:?}"
            );
        }

        // Nor may it listen to another service's replies.
        let other = services.iter().find(|o| **o != user).expect("another");
        let inbox = format!("_INBOX_{other}.>");
        let _subscription = client
            .subscribe(inbox.clone())
            .await
            .expect("subscribe is sent");
        client.flush().await.expect("flush");
        fabrique_testkit::eventually("the subscription refusal", Duration::from_secs(5), || {
            let refused = errors.lock().expect("errors").iter().any(|e| {
                e.to_lowercase()
                    .contains("permissions violation for subscription")
                    && e.contains(&inbox)
            });
            std::future::ready(refused.then_some(()))
        })
        .await;
    }
}

/// The Python example of docs/events.md ("Subscribing from outside"), as written.
fn subscriber_example() -> String {
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/events.md"))
        .expect("docs/events.md");
    let after = doc
        .split_once("<!-- subscriber-example -->")
        .expect("docs/events.md marks its subscriber example")
        .1;
    let code = after
        .split_once("```python\n")
        .and_then(|(_, rest)| rest.split_once("```"))
        .expect("a ```python block after the marker")
        .0;
    code.to_string()
}

/// Runs the docs' example as the subscriber; its output lines.
async fn run_subscriber_example(nats: &LocalNats, password: &str) -> Vec<String> {
    let dir = TempDir::new("subscriber-example");
    let script = dir.path().join("subscribe.py");
    std::fs::write(&script, subscriber_example()).expect("write the example");
    let python = std::env::var_os("FABRIQUE_TEST_PYTHON").unwrap_or_else(|| {
        panic!("FABRIQUE_TEST_PYTHON is not set: run the suite with ./scripts/test (it makes a venv with nats-py)")
    });
    let output = tokio::time::timeout(
        Duration::from_secs(60),
        tokio::process::Command::new(python)
            .arg(&script)
            .env("NATS_URL", &nats.url)
            .env("NATS_PASSWORD", password)
            .output(),
    )
    .await
    .expect("the example stops once no event comes")
    .expect("python runs");
    assert!(
        output.status.success(),
        "the subscriber example failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .expect("UTF-8")
        .lines()
        .map(str::to_string)
        .collect()
}

/// Acceptance: the read-only identity for outside subscribers, from the rendered
/// configuration. The docs' Python example reads the members' events through a durable
/// consumer of its own (and resumes after what it acknowledged); publishing, purging a
/// stream, deleting a service's consumer, taking its name or pulling from it are
/// refused, and nothing changes.
#[tokio::test]
async fn the_subscriber_user_reads_every_event_and_changes_nothing() {
    use async_nats::jetstream;

    let manifests = render_with_operator_secret("production");
    let nats = LocalNats::start(&manifests).await;
    let secrets = manifests
        .entries("Secret", "fabrique-nats-users")
        .expect("fabrique-nats-users");
    let password = |user: &str| secrets[&format!("{}_NATS_PASSWORD", user.to_uppercase())].clone();

    // The members service's stream and events, and the registry's consumer of them, as
    // the services make them with their own users.
    let members = jetstream::new(
        nats.connect("members", &password("members"), Arc::default())
            .await,
    );
    members
        .create_stream(jetstream::stream::Config {
            name: "FABRIQUE_MEMBERS".into(),
            subjects: vec!["fabrique.members.>".into()],
            ..Default::default()
        })
        .await
        .expect("members creates its stream");
    for verb in ["applied", "joined", "updated"] {
        let mut headers = async_nats::HeaderMap::new();
        headers.insert("ce-type", format!("fabrique.members.v1.Member{verb}"));
        headers.insert("ce-subject", "members/0192");
        members
            .publish_with_headers(
                format!("fabrique.members.member.{verb}"),
                headers,
                "snapshot".into(),
            )
            .await
            .expect("publish")
            .await
            .expect("stored");
    }
    let registry = jetstream::new(
        nats.connect("registry", &password("registry"), Arc::default())
            .await,
    );
    registry
        .get_stream("FABRIQUE_MEMBERS")
        .await
        .expect("registry reads the stream")
        .create_consumer(jetstream::consumer::pull::Config {
            durable_name: Some("registry-members".into()),
            ..Default::default()
        })
        .await
        .expect("registry creates its consumer");

    let seen = run_subscriber_example(&nats, &password("subscriber")).await;
    let subjects: Vec<&str> = seen
        .iter()
        .map(|line| line.split_whitespace().next().unwrap_or_default())
        .collect();
    assert_eq!(
        subjects,
        [
            "fabrique.members.member.applied",
            "fabrique.members.member.joined",
            "fabrique.members.member.updated"
        ],
        "{seen:?}"
    );
    assert!(
        run_subscriber_example(&nats, &password("subscriber"))
            .await
            .is_empty(),
        "a second run resumes after what the first acknowledged"
    );

    let errors: Arc<Mutex<Vec<String>>> = Arc::default();
    let client = nats
        .connect("subscriber", &password("subscriber"), errors.clone())
        .await;
    let js = jetstream::ContextBuilder::new()
        .timeout(Duration::from_secs(2))
        .build(client.clone());
    client
        .publish("fabrique.members.member.joined", "forged".into())
        .await
        .expect("sent");
    client.flush().await.expect("flush");
    let stream = js
        .get_stream("FABRIQUE_MEMBERS")
        .await
        .expect("the subscriber reads stream info");
    assert!(
        js.delete_consumer_from_stream("registry-members", "FABRIQUE_MEMBERS")
            .await
            .is_err(),
        "deleting a service's consumer"
    );
    assert!(
        stream
            .create_consumer(jetstream::consumer::pull::Config {
                durable_name: Some("sharing-members".into()),
                ..Default::default()
            })
            .await
            .is_err(),
        "taking a service's consumer name"
    );
    assert!(stream.purge().await.is_err(), "purging a stream");
    client
        .publish(
            "$JS.API.CONSUMER.MSG.NEXT.FABRIQUE_MEMBERS.registry-members",
            "1".into(),
        )
        .await
        .expect("sent");
    client.flush().await.expect("flush");
    fabrique_testkit::eventually("the refusals", Duration::from_secs(5), || {
        let errors = errors.lock().expect("errors").join("\n").to_lowercase();
        let all = [
            "fabrique.members.member.joined",
            "$js.api.consumer.delete.fabrique_members.registry-members",
            "sharing-members",
            "$js.api.stream.purge.fabrique_members",
            "$js.api.consumer.msg.next.fabrique_members.registry-members",
        ]
        .iter()
        .all(|subject| {
            errors
                .lines()
                .any(|e| e.contains("permissions violation") && e.contains(subject))
        });
        std::future::ready(all.then_some(()))
    })
    .await;

    let admin = jetstream::new(
        nats.connect("admin", &password("admin"), Arc::default())
            .await,
    );
    let info = admin
        .get_stream("FABRIQUE_MEMBERS")
        .await
        .expect("stream")
        .info()
        .await
        .expect("info")
        .clone();
    assert_eq!(info.state.messages, 3, "nothing published, nothing purged");
    let mut names: Vec<String> = Vec::new();
    let mut listed = admin
        .get_stream("FABRIQUE_MEMBERS")
        .await
        .expect("stream")
        .consumer_names();
    while let Some(name) = futures::StreamExt::next(&mut listed).await {
        names.push(name.expect("a name"));
    }
    names.sort();
    assert_eq!(names, ["observatoire-members", "registry-members"]);
}

/// Acceptance (notify): contact e-mails travel on the members service's private stream,
/// which the notify service's user reads through its own consumer, and which neither
/// the outside subscriber nor another service may read.
#[tokio::test]
async fn personal_data_reaches_the_notify_service_only() {
    use async_nats::jetstream;

    let manifests = render_with_operator_secret("production");
    let nats = LocalNats::start(&manifests).await;
    let secrets = manifests
        .entries("Secret", "fabrique-nats-users")
        .expect("fabrique-nats-users");
    let password = |user: &str| secrets[&format!("{}_NATS_PASSWORD", user.to_uppercase())].clone();
    let members = jetstream::new(
        nats.connect("members", &password("members"), Arc::default())
            .await,
    );
    members
        .create_stream(jetstream::stream::Config {
            name: "FABRIQUE_PRIVATE_MEMBERS".into(),
            subjects: vec!["fabrique.private.members.>".into()],
            max_messages_per_subject: 1,
            ..Default::default()
        })
        .await
        .expect("members creates its private stream");
    members
        .publish(
            "fabrique.private.members.contacts.0192",
            "maire@thiers.test".into(),
        )
        .await
        .expect("publish")
        .await
        .expect("stored");

    let notify = jetstream::new(
        nats.connect("notify", &password("notify"), Arc::default())
            .await,
    );
    let consumer = notify
        .get_stream("FABRIQUE_PRIVATE_MEMBERS")
        .await
        .expect("notify reads the stream")
        .create_consumer(jetstream::consumer::pull::Config {
            durable_name: Some("notify-contacts".into()),
            ..Default::default()
        })
        .await
        .expect("notify creates its consumer");
    let mut batch = consumer
        .fetch()
        .max_messages(1)
        .messages()
        .await
        .expect("fetch");
    let message = futures::StreamExt::next(&mut batch)
        .await
        .expect("a message")
        .expect("ok");
    assert_eq!(&message.payload[..], b"maire@thiers.test");

    for user in ["subscriber", "registry"] {
        let client = nats.connect(user, &password(user), Arc::default()).await;
        let js = jetstream::ContextBuilder::new()
            .timeout(Duration::from_secs(2))
            .build(client);
        let stream = js.get_stream("FABRIQUE_PRIVATE_MEMBERS").await;
        let refused = match stream {
            Err(_) => true,
            Ok(stream) => {
                let consumer = stream
                    .create_consumer(jetstream::consumer::pull::Config {
                        durable_name: Some(format!("{user}-peek")),
                        ..Default::default()
                    })
                    .await;
                let message = stream.get_raw_message(1).await;
                consumer.is_err() && message.is_err()
            }
        };
        assert!(refused, "{user} reads the members' contact e-mails");
    }
    // Nor in the dead letters, where a contacts event notify failed on would be.
    members
        .create_stream(jetstream::stream::Config {
            name: "FABRIQUE_DLQ".into(),
            subjects: vec!["fabrique.dlq.>".into()],
            ..Default::default()
        })
        .await
        .expect("a service creates the dead letters' stream");
    let client = nats
        .connect("subscriber", &password("subscriber"), Arc::default())
        .await;
    let js = jetstream::ContextBuilder::new()
        .timeout(Duration::from_secs(2))
        .build(client);
    let peek = match js.get_stream("FABRIQUE_DLQ").await {
        Err(_) => true,
        Ok(stream) => stream
            .create_consumer(jetstream::consumer::pull::Config {
                durable_name: Some("subscriber-dlq".into()),
                ..Default::default()
            })
            .await
            .is_err(),
    };
    assert!(peek, "the subscriber reads the dead letters");
}

/// Each service's user reads back and removes its own dead letters through the
/// platform's bus (what `ReplayDeadLetter` does), and cannot read another's.
#[tokio::test]
async fn a_service_reads_its_own_dead_letters_only() {
    use fabrique_platform::bus::nats::NatsBus;
    use fabrique_platform::bus::{Bus, Headers, OutgoingMessage, Subjects};
    use fabrique_platform::config::{NatsSettings, Secret};

    let manifests = render_with_operator_secret("production");
    let nats = LocalNats::start(&manifests).await;
    let secrets = manifests
        .entries("Secret", "fabrique-nats-users")
        .expect("fabrique-nats-users");
    let bus = |user: &'static str| {
        let settings = NatsSettings {
            url: nats.url.clone(),
            user: Some(user.into()),
            password: Some(Secret::new(
                secrets[&format!("{}_NATS_PASSWORD", user.to_uppercase())].clone(),
            )),
            inbox_prefix: Some(format!("_INBOX_{user}")),
            ..Default::default()
        };
        async move {
            let bus = NatsBus::connect(&settings, user).await.expect("connect");
            bus.ready(Duration::from_secs(10)).await.expect("ready");
            bus
        }
    };
    let subjects = Subjects::new("");
    let dlq = subjects.dlq_stream();
    let (members, registry) = (bus("members").await, bus("registry").await);
    members.ensure_stream(&dlq).await.expect("the DLQ stream");
    for (bus, service) in [(&members, "members"), (&registry, "registry")] {
        bus.publish(OutgoingMessage {
            subject: subjects.dlq_subject(service),
            headers: Headers::new(),
            payload: format!("lettre de {service}").into(),
        })
        .await
        .expect("publish")
        .await
        .expect("stored");
    }
    let own = registry
        .stored(&dlq.name, &subjects.dlq_subject("registry"), 10)
        .await
        .expect("registry reads its own dead letters");
    assert_eq!(own.len(), 1);
    assert_eq!(&own[0].payload[..], b"lettre de registry");
    assert!(
        registry
            .stored(&dlq.name, &subjects.dlq_subject("members"), 10)
            .await
            .is_err(),
        "registry reads the members' dead letters"
    );
    assert!(
        registry
            .remove(&dlq.name, own[0].sequence)
            .await
            .expect("registry removes its letter")
    );
    let left = members
        .stored(&dlq.name, &subjects.dlq_subject("members"), 10)
        .await
        .expect("members reads its own");
    assert_eq!(left.len(), 1);
}

/// The ```sh block after `<!-- deploy-procedure -->` in `file`.
fn deploy_procedure(file: &str) -> String {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(file))
        .unwrap_or_else(|e| panic!("{file}: {e}"));
    let after = text
        .split_once("<!-- deploy-procedure -->")
        .unwrap_or_else(|| panic!("{file} does not mark its deploy procedure"))
        .1;
    after
        .split_once("```sh\n")
        .and_then(|(_, rest)| rest.split_once("```"))
        .unwrap_or_else(|| panic!("{file}: no ```sh block after the marker"))
        .0
        .to_string()
}

/// Acceptance: README.md and docs/operations.md give one procedure, word for word, and
/// it works as far as it can here: the image it sets is the one the manifests use, the
/// overlay exists, and create-secrets accepts exactly the variables it passes.
#[test]
fn the_readme_and_the_operations_guide_give_one_procedure() {
    let readme = deploy_procedure("README.md");
    assert_eq!(
        readme,
        deploy_procedure("docs/operations.md"),
        "README.md and docs/operations.md give different procedures"
    );
    let manifests = render("production");
    let image = manifests
        .all("Deployment")
        .find_map(|d| str_at(d, "/spec/template/spec/containers/0/image"))
        .expect("an image")
        .split(':')
        .next()
        .expect("a name")
        .to_string();
    assert!(
        readme.contains(&format!("set image {image}=")),
        "the procedure sets another image than the manifests' {image}"
    );
    assert!(readme.contains("kubectl apply -k deploy/k8s/overlays/production"));

    // The procedure gives one database URL as the example of all: each service's, as
    // an operator writes it after `create-secrets --services`.
    assert!(
        readme.contains("deploy/k8s/create-secrets --services"),
        "the procedure does not say how to know the services"
    );
    let example = readme
        .lines()
        .find_map(|line| {
            let (name, value) = line.trim().strip_prefix("export ")?.split_once("='")?;
            name.ends_with("_DATABASE_URL")
                .then(|| (name.to_string(), value.trim_end_matches('\'').to_string()))
        })
        .expect("an example database URL");
    let example_service = example.0.trim_end_matches("_DATABASE_URL").to_lowercase();
    assert!(
        service_names().contains(&example_service.as_str()),
        "the example {} is no service's",
        example.0
    );
    let env: Vec<(String, String)> = service_names()
        .into_iter()
        .map(|service| {
            (
                format!("{}_DATABASE_URL", service.to_uppercase()),
                example
                    .1
                    .replace(&example_service, service)
                    .replace('…', "password"),
            )
        })
        .collect();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/k8s/create-secrets");
    let run = |env: &[(String, String)]| {
        std::process::Command::new(&script)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .envs(env.iter().map(|(k, v)| (k, v)))
            .output()
            .expect("create-secrets runs")
    };
    let output = run(&env);
    assert!(
        output.status.success(),
        "create-secrets refuses what the procedure gives it: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let secrets: Vec<Value> =
        serde_norway::Deserializer::from_str(&String::from_utf8_lossy(&output.stdout))
            .map(|document| Value::deserialize(document).expect("a YAML Secret"))
            .filter(|v| !v.is_null())
            .collect();
    for (name, value) in &env {
        let key = format!(
            "{}-database-url",
            name.trim_end_matches("_DATABASE_URL").to_lowercase()
        );
        assert_eq!(
            secrets
                .iter()
                .find_map(|s| s.pointer(&format!("/stringData/{key}")))
                .and_then(Value::as_str),
            Some(value.as_str()),
            "{key}"
        );
    }
    // One missing: refused, naming it, and nothing printed.
    let (missing, _) = &env[env.len() - 1];
    let output = run(&env[..env.len() - 1]);
    assert!(
        !output.status.success(),
        "create-secrets accepts a missing {missing}"
    );
    assert!(
        output.stdout.is_empty(),
        "create-secrets printed half its Secrets"
    );
    assert!(
        String::from_utf8_lossy(&output.stderr).contains(missing.as_str()),
        "the refusal does not name {missing}"
    );
}

/// Acceptance ("one list of services"): the files `fabrique deploy-files` derives from
/// the binary's services are the repository's, so a service or a consumer added to the
/// binary is deployed, and gets its NATS permissions, by running it; and what they
/// derive holds every service.
#[test]
fn deploy_files_are_derived_from_the_services() {
    let services = fabrique::services::all();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/k8s");
    for file in fabrique::deploy_files::render(&services) {
        let in_repository = std::fs::read_to_string(dir.join(file.path))
            .unwrap_or_else(|e| panic!("deploy/k8s/{}: {e}", file.path));
        assert!(
            in_repository == file.text,
            "deploy/k8s/{} is not what `fabrique deploy-files` writes: run `cargo run -- \
             deploy-files`",
            file.path
        );
    }
    let manifests = render_with_operator_secret("production");
    for service in &services {
        let deployment = manifests
            .get("Deployment", service.name())
            .unwrap_or_else(|| panic!("{} has no Deployment", service.name()));
        let serving = containers(&manifests, deployment)
            .unwrap_or_else(|e| panic!("{e}"))
            .into_iter()
            .find(|c| !c.init)
            .expect("a container");
        assert_eq!(
            serving.args,
            ["serve", "--services", service.name()],
            "{}",
            service.name()
        );
        assert_eq!(
            serving.readiness.as_ref().map(|p| p.service.as_str()),
            Some(service.grpc_name()),
            "{} is ready when another service is",
            service.name()
        );
    }
    let names = std::process::Command::new(dir.join("create-secrets"))
        .arg("--services")
        .output()
        .expect("create-secrets runs");
    assert_eq!(
        String::from_utf8_lossy(&names.stdout)
            .lines()
            .collect::<Vec<_>>(),
        service_names(),
        "create-secrets knows other services than the binary"
    );
    let derived = fabrique::nats_conf::render(&services);
    for service in fabrique::services::all() {
        assert!(
            derived.contains(&format!("user: {}\n", service.name())),
            "{} has no NATS user",
            service.name()
        );
        for consumer in service.consumers() {
            assert!(
                derived.contains(&format!("$JS.ACK.*.{}.>", consumer.name)),
                "the subscriber may touch {}",
                consumer.name
            );
        }
    }
}

/// Where each env variable of a container comes from: `value`, or the ConfigMap's or
/// Secret's `name/key`, `(optional)` when the pod starts without it.
fn env_sources(container: &Value) -> BTreeMap<String, String> {
    container
        .get("env")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|var| {
            let name = str_at(var, "/name").unwrap_or_default().to_string();
            let source = if var.get("value").is_some() {
                "value".to_string()
            } else {
                let (kind, r) = [("ConfigMap", "configMapKeyRef"), ("Secret", "secretKeyRef")]
                    .into_iter()
                    .find_map(|(kind, key)| Some((kind, var.pointer("/valueFrom")?.get(key)?)))
                    .unwrap_or_else(|| panic!("{name}: another source"));
                let optional = if r.get("optional") == Some(&Value::Bool(true)) {
                    " (optional)"
                } else {
                    ""
                };
                format!(
                    "{kind} {}/{}{optional}",
                    str_at(r, "/name").unwrap_or_default(),
                    str_at(r, "/key").unwrap_or_default()
                )
            };
            (name, source)
        })
        .collect()
}

/// Acceptance (issue 23, and sign-in): the production overlay, and the small one built
/// on it, run the site as a Deployment of its own — `serve --services web` on the
/// services' image, two replicas, HTTP on 8080 probed on /healthz, hardened like the
/// services, reading nothing of the database or NATS — behind a Service on port 80 and
/// the example Ingress, whose host is its public URL. Of the Secrets it reads exactly
/// what sign-in needs, key by key (never a whole Secret): the services' token secret,
/// its session key, and its OpenID client secret if the operator gave one; the tokens'
/// issuer and audience as the services get them. The services get nothing new.
#[test]
fn the_production_overlay_runs_the_site_beside_the_services() {
    for overlay in ["production", "small"] {
        let manifests = render_with_operator_secret(overlay);
        let found = problems(&manifests);
        assert!(found.is_empty(), "{overlay}: {found:#?}");
        let web = manifests
            .get("Deployment", "web")
            .unwrap_or_else(|| panic!("{overlay} has no web Deployment"));
        assert_eq!(web.pointer("/spec/replicas"), Some(&Value::from(2)));
        let image = |name: &str| {
            manifests
                .get("Deployment", name)
                .and_then(|d| str_at(d, "/spec/template/spec/containers/0/image"))
                .map(str::to_string)
        };
        assert_eq!(image("web"), image("members"), "one image for all");
        let [site] = &containers(&manifests, web).unwrap_or_else(|e| panic!("{e}"))[..] else {
            panic!("{overlay}: the site's pod runs one container, no init");
        };
        assert_eq!(site.args, ["serve", "--services", "web"]);
        assert!(site.is_site_alone());
        assert_eq!(site.ports.get("http"), Some(&8080));
        assert_eq!(
            site.env.get("FABRIQUE_WEB_LISTEN").map(String::as_str),
            Some("0.0.0.0:8080")
        );
        for probe in [&site.http_readiness, &site.http_liveness] {
            let probe = probe.as_ref().expect("an HTTP probe");
            assert_eq!((probe.path.as_str(), probe.port), ("/healthz", 8080));
        }
        // Each service it reads at its own Service, by name.
        for (variable, service) in SITE_READS {
            assert_eq!(
                site.env.get(*variable),
                Some(&format!("http://{service}:50051")),
                "{variable}"
            );
        }
        // Exactly this env, from exactly these sources; no envFrom.
        let container = web
            .pointer("/spec/template/spec/containers/0")
            .expect("a container");
        assert!(
            container.get("envFrom").is_none(),
            "{overlay}: the site takes a whole ConfigMap or Secret"
        );
        let config = |key: &str| format!("ConfigMap fabrique-config/{key}");
        let expected: BTreeMap<String, String> = [
            ("FABRIQUE_LOG_FORMAT", config("FABRIQUE_LOG_FORMAT")),
            ("RUST_LOG", config("RUST_LOG")),
            (
                "FABRIQUE_JWT_ISSUER",
                config("FABRIQUE_JWT_ISSUER (optional)"),
            ),
            (
                "FABRIQUE_JWT_AUDIENCE",
                config("FABRIQUE_JWT_AUDIENCE (optional)"),
            ),
            (
                "FABRIQUE_JWT_SECRET",
                "Secret fabrique-secrets/jwt-secret".into(),
            ),
            (
                "FABRIQUE_WEB_SESSION_KEY",
                "Secret fabrique-secrets/web-session-key".into(),
            ),
            (
                "FABRIQUE_WEB_OIDC_CLIENT_SECRET",
                "Secret fabrique-secrets/web-oidc-client-secret (optional)".into(),
            ),
            ("FABRIQUE_WEB_LISTEN", "value".into()),
            ("FABRIQUE_WEB_MEMBERS_URL", "value".into()),
            ("FABRIQUE_WEB_REGISTRY_URL", "value".into()),
            ("FABRIQUE_WEB_PROJECTS_URL", "value".into()),
            ("FABRIQUE_WEB_SHARING_URL", "value".into()),
            ("FABRIQUE_WEB_NOTIFY_URL", "value".into()),
            ("FABRIQUE_WEB_PARTICIPATION_URL", "value".into()),
            ("FABRIQUE_WEB_PUBLIC_URL", "value".into()),
            ("OTEL_SDK_DISABLED", "value".into()),
        ]
        .into_iter()
        .map(|(name, source)| (name.to_string(), source))
        .collect();
        assert_eq!(
            env_sources(container),
            expected,
            "{overlay}: the site's env"
        );
        let mut secrets = Vec::new();
        collect_secret_refs(web, &mut secrets);
        secrets.sort();
        let key =
            |key: &str, optional: bool| ("fabrique-secrets".to_string(), key.to_string(), optional);
        assert_eq!(
            secrets,
            [
                key("jwt-secret", false),
                key("web-oidc-client-secret", true),
                key("web-session-key", false),
            ],
            "{overlay}: the Secrets the site reads"
        );
        // As resolved with the operator's Secret: the services' own secret, issuer and
        // audience (so the services accept the site's tokens), its session key, no
        // client secret (none given), nothing of the database or NATS.
        let members = containers(
            &manifests,
            manifests.get("Deployment", "members").expect("members"),
        )
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .find(|c| !c.init)
        .expect("the members container");
        for shared in [
            "FABRIQUE_JWT_SECRET",
            "FABRIQUE_JWT_ISSUER",
            "FABRIQUE_JWT_AUDIENCE",
        ] {
            assert!(
                site.env.get(shared).is_some_and(|v| !v.is_empty()),
                "{overlay}: the site has no {shared}"
            );
            assert_eq!(
                site.env.get(shared),
                members.env.get(shared),
                "{overlay}: the site's {shared} is not the services'"
            );
        }
        let session_key = site
            .env
            .get("FABRIQUE_WEB_SESSION_KEY")
            .expect("a session key");
        assert!(session_key.len() >= 32);
        assert_ne!(Some(session_key), site.env.get("FABRIQUE_JWT_SECRET"));
        assert!(!site.env.contains_key("FABRIQUE_WEB_OIDC_CLIENT_SECRET"));
        for name in site.env.keys() {
            assert!(
                !["DATABASE", "NATS", "PASSWORD"]
                    .iter()
                    .any(|word| name.contains(word)),
                "the site gets {name}"
            );
        }
        // The services: nothing new. Each reads its database URL, the token secret and
        // its NATS password, and nothing of the site's; notify also its SMTP server's
        // URL, which the operator gives.
        for service in service_names() {
            let deployment = manifests
                .get("Deployment", service)
                .unwrap_or_else(|| panic!("no Deployment {service}"));
            let mut read = Vec::new();
            collect_secret_refs(deployment, &mut read);
            let read: BTreeSet<(String, String, bool)> = read.into_iter().collect();
            let mut expected: BTreeSet<(String, String, bool)> = [
                key(&format!("{service}-database-url"), false),
                key("jwt-secret", false),
                (
                    "fabrique-nats-users".to_string(),
                    format!("{}_NATS_PASSWORD", service.to_uppercase()),
                    false,
                ),
            ]
            .into_iter()
            .collect();
            if service == "notify" {
                expected.insert(key("smtp-url", true));
            }
            assert_eq!(read, expected, "{overlay}: the Secrets {service} reads");
            for c in containers(&manifests, deployment).unwrap_or_else(|e| panic!("{e}")) {
                assert!(
                    !c.env.keys().any(|name| name.starts_with("FABRIQUE_WEB_")),
                    "{overlay}: {} gets the site's settings",
                    c.label()
                );
            }
        }
        // Nothing else reads the site's keys.
        for workload in manifests
            .all("Deployment")
            .chain(manifests.all("StatefulSet"))
            .filter(|w| str_at(w, "/metadata/name") != Some("web"))
        {
            let mut read = Vec::new();
            collect_secret_refs(workload, &mut read);
            assert!(
                !read.iter().any(|(_, key, _)| key.starts_with("web-")),
                "{overlay}: {:?} reads {read:?}",
                str_at(workload, "/metadata/name")
            );
        }
        let pod_labels = web
            .pointer("/spec/template/metadata/labels")
            .expect("labels");
        assert_ne!(
            pod_labels.get("app.kubernetes.io/component"),
            Some(&Value::from("service")),
            "the site must not take the services' network policy"
        );
        // Its Service, port 80 to http, and the Ingress to it.
        let service = manifests
            .service_port("web", 80)
            .expect("Service web port 80");
        assert_eq!(
            service.pointer("/spec/ports/0/targetPort"),
            Some(&Value::from("http"))
        );
        let ingress = manifests.get("Ingress", "web").expect("an Ingress example");
        assert!(str_at(ingress, "/spec/ingressClassName").is_some_and(|c| !c.is_empty()));
        let host = str_at(ingress, "/spec/rules/0/host").expect("a host");
        assert_eq!(
            site.env.get("FABRIQUE_WEB_PUBLIC_URL"),
            Some(&format!("https://{host}")),
            "{overlay}: the site's public URL is the Ingress's host, over TLS"
        );
        assert_eq!(
            strings(ingress.pointer("/spec/tls/0/hosts")),
            [host],
            "TLS for the host it routes"
        );
        assert!(str_at(ingress, "/spec/tls/0/secretName").is_some());
        let backend = ingress
            .pointer("/spec/rules/0/http/paths/0/backend/service")
            .expect("a backend");
        assert_eq!(str_at(backend, "/name"), Some("web"));
        assert_eq!(str_at(backend, "/port/name"), Some("http"));
        assert!(
            manifests.get("PodDisruptionBudget", "web").is_some(),
            "a PodDisruptionBudget, as every Deployment of several replicas"
        );
    }
}

// ------------------------------------------------------------------ network policies

/// One end of a connection: a pod (its namespace and labels, its named ports) or an
/// address outside the cluster.
#[derive(Debug, Clone)]
struct Peer {
    name: String,
    namespace: String,
    /// `None`: outside the cluster.
    labels: Option<BTreeMap<String, String>>,
    ports: BTreeMap<String, u16>,
}

impl Peer {
    fn pod(name: &str, namespace: &str, labels: &[(&str, &str)]) -> Self {
        Peer {
            name: name.into(),
            namespace: namespace.into(),
            labels: Some(
                labels
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ),
            ports: BTreeMap::new(),
        }
    }

    fn outside(name: &str) -> Self {
        Peer {
            name: name.into(),
            namespace: String::new(),
            labels: None,
            ports: BTreeMap::new(),
        }
    }

    /// A namespace's labels as Kubernetes sets them.
    fn namespace_labels(&self) -> BTreeMap<String, String> {
        BTreeMap::from([(
            "kubernetes.io/metadata.name".to_string(),
            self.namespace.clone(),
        )])
    }
}

/// Every pod of the rendered workloads, in their namespace.
fn rendered_pods(manifests: &Manifests) -> Vec<Peer> {
    manifests
        .all("Deployment")
        .chain(manifests.all("StatefulSet"))
        .map(|workload| {
            let labels = workload
                .pointer("/spec/template/metadata/labels")
                .and_then(Value::as_object)
                .map(|l| {
                    l.iter()
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                        .collect()
                })
                .unwrap_or_default();
            let ports = containers(manifests, workload)
                .unwrap_or_else(|e| panic!("{e}"))
                .into_iter()
                .filter(|c| !c.init)
                .flat_map(|c| c.ports)
                .collect();
            Peer {
                name: str_at(workload, "/metadata/name")
                    .unwrap_or_default()
                    .to_string(),
                namespace: str_at(workload, "/metadata/namespace")
                    .unwrap_or("default")
                    .to_string(),
                labels: Some(labels),
                ports,
            }
        })
        .collect()
}

/// Whether a label selector (`matchLabels`, `matchExpressions`) selects `labels`; an
/// empty one selects everything.
fn selects(selector: &Value, labels: &BTreeMap<String, String>) -> bool {
    let by_labels = selector
        .get("matchLabels")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .all(|(k, v)| labels.get(k).map(String::as_str) == v.as_str());
    let by_expressions = selector
        .get("matchExpressions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .all(|e| {
            let value = labels.get(str_at(e, "/key").unwrap_or_default());
            let values = strings(e.get("values"));
            match str_at(e, "/operator").unwrap_or_default() {
                "In" => value.is_some_and(|v| values.contains(v)),
                "NotIn" => value.is_none_or(|v| !values.contains(v)),
                "Exists" => value.is_some(),
                "DoesNotExist" => value.is_none(),
                other => panic!("unknown selector operator {other}"),
            }
        });
    by_labels && by_expressions
}

/// Whether a policy peer (`to` or `from` entry) of a policy in `namespace` is `peer`. An
/// `ipBlock` counts as every address outside the cluster (the strictest reading for
/// "nothing else").
fn peer_matches(rule_peer: &Value, namespace: &str, peer: &Peer) -> bool {
    if rule_peer.get("ipBlock").is_some() {
        return peer.labels.is_none();
    }
    let Some(labels) = &peer.labels else {
        return false;
    };
    let namespace_ok = match rule_peer.get("namespaceSelector") {
        Some(selector) => selects(selector, &peer.namespace_labels()),
        None => peer.namespace == namespace,
    };
    let pod_ok = rule_peer
        .get("podSelector")
        .is_none_or(|selector| selects(selector, labels));
    namespace_ok && pod_ok
}

/// Whether a rule's `ports` admit `port`/`protocol` at `target` (named ports through the
/// target's containers).
fn rule_ports_admit(rule: &Value, target: &Peer, port: u16, protocol: &str) -> bool {
    let Some(ports) = rule.get("ports").and_then(Value::as_array) else {
        return true;
    };
    ports.is_empty()
        || ports.iter().any(|p| {
            str_at(p, "/protocol").unwrap_or("TCP") == protocol
                && match p.get("port") {
                    None => true,
                    Some(Value::String(named)) => target.ports.get(named) == Some(&port),
                    Some(number) => {
                        let from = port_of(number).unwrap_or(0);
                        let to = p.get("endPort").and_then(port_of).unwrap_or(from);
                        (from..=to).contains(&port)
                    }
                }
        })
}

/// Whether the rendered NetworkPolicies let `from` open `port`/`protocol` on `to`: the
/// egress of `from` and the ingress of `to` must both allow it. Namespaces without a
/// policy (everything outside the rendered ones) allow all, as in Kubernetes.
fn policies_allow(
    manifests: &Manifests,
    from: &Peer,
    to: &Peer,
    port: u16,
    protocol: &str,
) -> bool {
    let direction_allows = |subject: &Peer, other: &Peer, kind: &str, key: &str, peers: &str| {
        let Some(labels) = &subject.labels else {
            return true;
        };
        let applying: Vec<&Value> = manifests
            .all("NetworkPolicy")
            .filter(|p| str_at(p, "/metadata/namespace") == Some(subject.namespace.as_str()))
            .filter(|p| {
                p.pointer("/spec/podSelector")
                    .is_some_and(|selector| selects(selector, labels))
            })
            .filter(|p| {
                let types = strings(p.pointer("/spec/policyTypes"));
                if types.is_empty() {
                    kind == "Ingress" || p.pointer("/spec/egress").is_some()
                } else {
                    types.iter().any(|t| t == kind)
                }
            })
            .collect();
        if applying.is_empty() {
            return true;
        }
        applying.iter().any(|policy| {
            let namespace = str_at(policy, "/metadata/namespace").unwrap_or_default();
            policy
                .pointer(&format!("/spec/{key}"))
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .any(|rule| {
                    let peer_ok = match rule.get(peers).and_then(Value::as_array) {
                        None => true,
                        Some(list) if list.is_empty() => true,
                        Some(list) => list.iter().any(|p| peer_matches(p, namespace, other)),
                    };
                    peer_ok && rule_ports_admit(rule, to, port, protocol)
                })
        })
    };
    direction_allows(from, to, "Egress", "egress", "to")
        && direction_allows(to, from, "Ingress", "ingress", "from")
}

/// Acceptance (issue 23): with the network-policies component, the site's pods take
/// HTTP on 8080 (from the ingress controller, wherever it runs) and nothing else, and
/// reach the services' gRPC port and DNS and nothing else: no NATS, no PostgreSQL, no
/// collector, no other port, nothing outside the cluster. What the policies allowed
/// before still holds: services reach NATS, PostgreSQL and the collector and take
/// gRPC, from the site too; nothing else reaches NATS or PostgreSQL.
#[test]
fn the_site_reaches_the_services_grpc_and_nothing_else() {
    for overlay in ["production", "small"] {
        let manifests = render_with_operator_secret(overlay);
        let pods = rendered_pods(&manifests);
        let pod = |name: &str| {
            pods.iter()
                .find(|p| p.name == name)
                .unwrap_or_else(|| panic!("{overlay}: no pod {name}"))
                .clone()
        };
        let web = pod("web");
        let mut dns = Peer::pod("coredns", "kube-system", &[("k8s-app", "kube-dns")]);
        dns.ports.insert("dns".into(), 53);
        let controller = Peer::pod(
            "ingress-controller",
            "ingress-nginx",
            &[("app.kubernetes.io/name", "ingress-nginx")],
        );
        let outside = Peer::outside("the internet");
        let allow =
            |from: &Peer, to: &Peer, port: u16| policies_allow(&manifests, from, to, port, "TCP");

        // Everything the site may open, among every rendered pod's ports, DNS and
        // outside addresses.
        let mut targets: Vec<(Peer, u16, &str)> = Vec::new();
        for p in &pods {
            let mut ports: BTreeSet<u16> = p.ports.values().copied().collect();
            ports.extend([50051, 8080, 4222, 5432, 4317, 6222, 8222]);
            targets.extend(ports.into_iter().map(|port| (p.clone(), port, "TCP")));
        }
        targets.extend([
            (dns.clone(), 53, "UDP"),
            (dns.clone(), 53, "TCP"),
            (dns.clone(), 9153, "TCP"),
            (controller.clone(), 80, "TCP"),
            (outside.clone(), 443, "TCP"),
            (outside.clone(), 80, "TCP"),
            (outside.clone(), 53, "UDP"),
        ]);
        let reached: BTreeSet<String> = targets
            .iter()
            .filter(|(to, port, protocol)| policies_allow(&manifests, &web, to, *port, protocol))
            .map(|(to, port, protocol)| format!("{}:{port}/{protocol}", to.name))
            .collect();
        let mut expected: BTreeSet<String> = service_names()
            .into_iter()
            .map(|s| format!("{s}:50051/TCP"))
            .collect();
        expected.extend(["coredns:53/UDP".to_string(), "coredns:53/TCP".to_string()]);
        assert_eq!(reached, expected, "{overlay}: what the site may open");
        for service in service_names() {
            let grpc = pod(service).ports["grpc"];
            assert!(
                allow(&web, &pod(service), grpc),
                "{overlay}: web → {service}"
            );
        }

        // Into the site: 8080 from the ingress controller (or anywhere), no other port.
        for from in [&controller, &outside] {
            assert!(
                allow(from, &web, 8080),
                "{overlay}: {} → web:8080",
                from.name
            );
            for port in [80, 50051, 9090] {
                assert!(
                    !allow(from, &web, port),
                    "{overlay}: {} → web:{port}",
                    from.name
                );
            }
        }

        // The guarantees from before the site.
        for service in service_names() {
            let s = pod(service);
            assert!(allow(&s, &pod("nats"), 4222), "{service} → NATS");
            assert!(
                allow(&s, &pod("otel-collector"), 4317),
                "{service} → collector"
            );
            assert!(allow(&outside, &s, 50051), "a client → {service}");
            assert!(!allow(&s, &web, 8080), "{service} → web");
            assert!(!allow(&s, &outside, 443), "{service} → the internet");
        }
        let nats = pod("nats");
        assert!(allow(&nats, &nats, 6222), "NATS routes");
        assert!(!allow(&web, &nats, 4222) && !allow(&outside, &nats, 4222));
        if overlay == "small" {
            let postgres = pod("postgres");
            assert!(allow(&pod("members"), &postgres, 5432));
            assert!(!allow(&web, &postgres, 5432) && !allow(&outside, &postgres, 5432));
        }
    }
}
