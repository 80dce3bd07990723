//! A request body that must arrive whole within a deadline: a client that
//! trickles an upload in is cut off (its handler sees a body error and
//! answers with the API's error; an upload's spool file goes with it).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use http_body::{Frame, SizeHint};

pin_project_lite::pin_project! {
    struct Deadline {
        #[pin]
        inner: Body,
        #[pin]
        sleep: tokio::time::Sleep,
        limit: Duration,
    }
}

impl http_body::Body for Deadline {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = self.project();
        if this.sleep.poll(cx).is_ready() {
            let limit = this.limit.as_secs();
            return Poll::Ready(Some(Err(axum::Error::new(format!(
                "the request body did not arrive within {limit} s"
            )))));
        }
        this.inner.poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Gives the request's body `limit` to arrive, from now.
pub async fn body_deadline(
    axum::extract::State(limit): axum::extract::State<Duration>,
    req: Request,
    next: Next,
) -> Response {
    let (parts, body) = req.into_parts();
    // No body (a download): no timer on the hot path.
    if http_body::Body::is_end_stream(&body) {
        return next.run(Request::from_parts(parts, body)).await;
    }
    let body = Body::new(Deadline {
        inner: body,
        sleep: tokio::time::sleep(limit),
        limit,
    });
    next.run(Request::from_parts(parts, body)).await
}
