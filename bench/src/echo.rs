//! `baseline-echo`: a bare tonic unary server, in its own tokio runtime on its own
//! threads (as a service process has), that answers with what it was sent. It does no
//! authentication, no database and no tracing: the ceiling of a unary call here.

use std::net::SocketAddr;

use tonic::{Request, Response, Status};

pub mod pb {
    tonic::include_proto!("fabrique.bench.v1");
}

use pb::echo_service_server::{EchoService, EchoServiceServer};

struct Echo;

#[tonic::async_trait]
impl EchoService for Echo {
    async fn echo(
        &self,
        request: Request<pb::EchoRequest>,
    ) -> Result<Response<pb::EchoResponse>, Status> {
        Ok(Response::new(pb::EchoResponse {
            payload: request.into_inner().payload,
        }))
    }
}

/// The running echo server; stops when dropped.
pub struct EchoServer {
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl EchoServer {
    /// Starts it on a free loopback port with `workers` runtime threads.
    pub fn start(workers: usize) -> anyhow::Result<Self> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers.max(1))
            .thread_name("echo")
            .enable_all()
            .build()?;
        let thread = std::thread::spawn(move || {
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("a listener");
                // Accepted the same way as the platform's server accepts them.
                let incoming = fabrique_platform::server::incoming(listener);
                let _ = tonic::transport::Server::builder()
                    .add_service(EchoServiceServer::new(Echo))
                    .serve_with_incoming_shutdown(incoming, async {
                        let _ = stopped.await;
                    })
                    .await;
            });
        });
        Ok(Self {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for EchoServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
