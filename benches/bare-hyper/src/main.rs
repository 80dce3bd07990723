//! `bare-hyper FILE ADDR`: hyper alone, answering every request with 200,
//! FILE's bytes (read once) and `Content-Type: image/png`, over HTTP/1.1
//! keep-alive with Title-Case headers, as helpdesk serves a cached image.
//! The floor helpdesk's cost is measured against (scripts/count-instructions,
//! scripts/bench-vs-nginx). Prints `listening on http://IP:PORT` once bound;
//! ends on SIGTERM or SIGINT (so that valgrind writes its output).

use std::convert::Infallible;

use bytes::Bytes;
use http::{header, Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::signal::unix::{signal, SignalKind};

// The same runtime as `helpdesk serve` (tokio's multi-thread default, a
// worker per core), so that the difference counted is the application's.
#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, file, addr] = &args[..] else {
        eprintln!("usage: bare-hyper FILE ADDR (e.g. 127.0.0.1:0)");
        std::process::exit(2);
    };
    let body = Bytes::from(std::fs::read(file)?);
    let mut term = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    let listener = TcpListener::bind(addr.as_str()).await?;
    println!("listening on http://{}", listener.local_addr()?);
    let mut http = http1::Builder::new();
    http.title_case_headers(true).keep_alive(true);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => accepted?.0,
            _ = term.recv() => return Ok(()),
            _ = interrupt.recv() => return Ok(()),
        };
        let _ = stream.set_nodelay(true);
        let body = body.clone();
        let service = service_fn(move |_: Request<Incoming>| {
            let response = Response::builder()
                .header(header::CONTENT_TYPE, "image/png")
                .body(Full::new(body.clone()))
                .expect("a valid response");
            async move { Ok::<_, Infallible>(response) }
        });
        let connection = http.serve_connection(TokioIo::new(stream), service);
        tokio::spawn(async move {
            let _ = connection.await;
        });
    }
}
