//! The Kubernetes manifests and the binary agree. Each overlay is rendered with
//! kustomize and run the way a cluster would run it, on loopback: every Deployment's
//! init containers then containers start with their own args, with the env their
//! ConfigMap, Secret and field references resolve to, on their declared ports; the test
//! waits for their declared gRPC probes to answer SERVING and runs a flow through them.
//! NATS runs from the rendered `nats.conf` (one node instead of three), so the
//! per-service users and permissions are the ones a cluster gets.
//!
//! Only what a laptop cannot be is changed, and each change is checked first: ports
//! become free loopback ports (the probe port must be the listen port, or nothing
//! answers), service hosts become 127.0.0.1 (the URL must name a rendered Service and
//! its port), each PostgreSQL URL becomes a fresh database, volumes become temporary
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
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/k8s/create-secrets");
    let mut command = std::process::Command::new(script);
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default());
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
                let value = if let Some(value) = var.get("value") {
                    value.as_str().unwrap_or_default().to_string()
                } else if let Some(r) = var.pointer("/valueFrom/secretKeyRef") {
                    manifests
                        .entry(
                            "Secret",
                            str_at(r, "/name").unwrap_or_default(),
                            str_at(r, "/key").unwrap_or_default(),
                        )
                        .map_err(|e| format!("{label} env {var_name}: {e}"))?
                } else if let Some(r) = var.pointer("/valueFrom/configMapKeyRef") {
                    manifests
                        .entry(
                            "ConfigMap",
                            str_at(r, "/name").unwrap_or_default(),
                            str_at(r, "/key").unwrap_or_default(),
                        )
                        .map_err(|e| format!("{label} env {var_name}: {e}"))?
                } else if let Some(path) = str_at(var, "/valueFrom/fieldRef/fieldPath") {
                    match path {
                        "metadata.name" => format!("{workload_name}-0"),
                        "metadata.namespace" => namespace.to_string(),
                        other => return Err(format!("{label}: unsupported fieldRef {other}")),
                    }
                } else {
                    return Err(format!("{label} env {var_name}: unsupported source"));
                };
                explicit_env.push(var_name.clone());
                env.insert(var_name, value);
            }
            let ports = container
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
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
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
    ports: &HashMap<u16, u16>,
    databases: &HashMap<String, String>,
    nats: Option<&LocalNats>,
    volumes: &HashMap<String, PathBuf>,
) -> BTreeMap<String, String> {
    let mut env = container.env.clone();
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
        let mut init_runs = Vec::new();
        for workload in workloads {
            let of_pod: Vec<Container> = containers
                .iter()
                .filter(|c| c.workload == workload)
                .cloned()
                .collect();
            let ports: HashMap<u16, u16> = of_pod
                .iter()
                .flat_map(|c| c.ports.values().copied())
                .map(|p| (p, free_port()))
                .collect();
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
                c.env = localize(&c, manifests, &ports, &databases, nats, &volumes);
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

    /// Every declared readiness and liveness probe answers SERVING.
    async fn wait_for_probes(&self) {
        for pod in &self.pods {
            for c in &pod.main {
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
    let env = &cluster.pods[0].main[0].env;
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

/// A FabLab joins (members), lists its workshop (registry, once members' event reached
/// it), lends a laser cutter there (sharing, once members' and registry's events did),
/// and hosts a project (projects, likewise).
async fn alliance_flow(cluster: &LocalCluster) {
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
}

// ------------------------------------------------------------------ tests

/// Acceptance: the production overlay runs as declared — four Deployments, NATS from
/// its own config with a user per service — and a flow crosses all four services, with
/// the Secret the operator created (deploy/k8s/create-secrets). A token for another
/// audience or issuer, or for none, is refused by services started from the overlay's
/// own env.
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
    assert_eq!(cluster.pods.len(), 4, "one pod per service");
    alliance_flow(&cluster).await;

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

/// The Secrets from deploy/k8s/create-secrets have every key the overlays read, each
/// Secret a container takes whole (`envFrom`) exists with what its program reads from
/// it, and each run makes new values.
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
        for (name, key) in &read {
            let keys = secret_keys(&created, name);
            assert!(
                !keys.is_empty(),
                "{overlay} reads Secret {name}, which is not created"
            );
            assert!(
                key.is_empty() || keys.contains(key),
                "{overlay} reads {key} of {name}, which is not created"
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
        let jwt = |secrets: &[Value]| {
            secrets
                .iter()
                .find_map(|s| s.pointer("/stringData/jwt-secret").cloned())
                .expect("a jwt-secret")
        };
        assert_ne!(
            jwt(&created),
            jwt(&again),
            "each run generates its own signing secret"
        );
    }
}

/// Every Secret a workload reads, as `(name, key)`; a key of "" for a Secret read whole
/// (`envFrom`).
fn collect_secret_refs(value: &Value, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            if let Some(r) = map.get("secretKeyRef") {
                out.push((
                    str_at(r, "/name").unwrap_or_default().to_string(),
                    str_at(r, "/key").unwrap_or_default().to_string(),
                ));
            }
            if let Some(r) = map.get("secretRef") {
                out.push((
                    str_at(r, "/name").unwrap_or_default().to_string(),
                    String::new(),
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
