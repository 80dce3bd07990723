//! Reading Feishu's answers: the log id, the error body, and the
//! `{code, msg, data}` envelope of a 2xx JSON answer.

use helpdesk_core::wire::header;
use reqwest::Response;
use serde_json::Value;

use crate::{ApiError, Error};

pub(crate) fn log_id(resp: &Response) -> Option<String> {
    [header::LOG_ID, header::REQUEST_ID]
        .iter()
        .find_map(|h| resp.headers().get(*h))
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// Reads an error answer into an [`Error`].
pub(crate) async fn api_error(resp: Response) -> Error {
    let status = resp.status().as_u16();
    let header_log_id = log_id(&resp);
    let body: Option<Value> = resp.json().await.ok();
    match body
        .as_ref()
        .and_then(|b| Some((b.get("code")?.as_i64()?, b)))
    {
        Some((code, body)) => Error::Api(ApiError {
            status,
            code,
            msg: body
                .get("msg")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            log_id: header_log_id.or_else(|| {
                body.pointer("/error/log_id")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            }),
        }),
        None => Error::Protocol {
            status,
            log_id: header_log_id,
            detail: "the error body is not Feishu's JSON".into(),
        },
    }
}

/// Reads a 2xx JSON answer: its status, log id and body, or the API error
/// its non-zero `code` stands for (the token endpoints answer errors with
/// HTTP 200).
pub(crate) async fn envelope(resp: Response) -> Result<(u16, Option<String>, Value), Error> {
    let status = resp.status().as_u16();
    let log_id = log_id(&resp);
    let body: Value = resp.json().await.map_err(|e| Error::Protocol {
        status,
        log_id: log_id.clone(),
        detail: format!("the body is not JSON: {e}"),
    })?;
    match body.get("code").and_then(Value::as_i64) {
        Some(0) => Ok((status, log_id, body)),
        code => Err(Error::Api(ApiError {
            status,
            code: code.unwrap_or(-1),
            msg: body
                .get("msg")
                .and_then(Value::as_str)
                .unwrap_or("no code in the answer")
                .to_string(),
            log_id,
        })),
    }
}
