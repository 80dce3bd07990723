//! `/tickets/{id}/images.zip`: a ticket's originals streamed as a zip,
//! with the `manifest.json` `helpdesk images export` writes, first.
//!
//! Entries are stored, not deflated (images are compressed already), one
//! image in memory at a time, its CRC-32 computed before its header is
//! written. No ZIP64: a ticket whose images pass 4 GiB, or 65,535 files, is
//! refused with one line pointing at `helpdesk images export`.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use bytes::{BufMut, Bytes, BytesMut};
use helpdesk_core::export::{file_name, Manifest, ManifestEntry};
use helpdesk_core::ImageType;
use helpdesk_store::MessageFilter;

use crate::auth::Principal;
use crate::pages::{failed, Page};
use crate::tickets::visible_ticket;
use crate::Console;

/// What fits without ZIP64 (with room for headers and the manifest).
const MAX_TOTAL: u64 = 4_000_000_000;
const MAX_FILES: usize = 65_000;

/// DOS time and date of Unix seconds (UTC).
fn dos_time(secs: i64) -> (u16, u16) {
    let (y, mo, d, h, mi, s) = crate::pages::civil(secs.max(315_532_800));
    let time = (h << 11) | (mi << 5) | (s / 2);
    let date = ((y - 1980) << 9) | (mo << 5) | d;
    (time as u16, date as u16)
}

struct Written {
    name: String,
    crc: u32,
    size: u32,
    offset: u32,
    time: (u16, u16),
}

fn local_header(out: &mut BytesMut, w: &Written) {
    out.put_u32_le(0x0403_4b50);
    out.put_u16_le(20);
    out.put_u16_le(0x0800); // UTF-8 names
    out.put_u16_le(0); // stored
    out.put_u16_le(w.time.0);
    out.put_u16_le(w.time.1);
    out.put_u32_le(w.crc);
    out.put_u32_le(w.size);
    out.put_u32_le(w.size);
    out.put_u16_le(w.name.len() as u16);
    out.put_u16_le(0);
    out.put_slice(w.name.as_bytes());
}

fn central(files: &[Written], start: u32) -> Bytes {
    let mut out = BytesMut::new();
    for w in files {
        out.put_u32_le(0x0201_4b50);
        out.put_u16_le(20);
        out.put_u16_le(20);
        out.put_u16_le(0x0800);
        out.put_u16_le(0);
        out.put_u16_le(w.time.0);
        out.put_u16_le(w.time.1);
        out.put_u32_le(w.crc);
        out.put_u32_le(w.size);
        out.put_u32_le(w.size);
        out.put_u16_le(w.name.len() as u16);
        out.put_u16_le(0);
        out.put_u16_le(0);
        out.put_u16_le(0);
        out.put_u16_le(0);
        out.put_u32_le(0);
        out.put_u32_le(w.offset);
        out.put_slice(w.name.as_bytes());
    }
    let size = out.len() as u32;
    out.put_u32_le(0x0605_4b50);
    out.put_u16_le(0);
    out.put_u16_le(0);
    out.put_u16_le(files.len() as u16);
    out.put_u16_le(files.len() as u16);
    out.put_u32_le(size);
    out.put_u32_le(start);
    out.put_u16_le(0);
    out.freeze()
}

/// One file: its header and bytes, noted for the central directory.
fn file(
    name: String,
    bytes: &[u8],
    time: (u16, u16),
    offset: &mut u32,
    files: &mut Vec<Written>,
) -> (Bytes, Bytes) {
    let w = Written {
        name,
        crc: crc32fast::hash(bytes),
        size: bytes.len() as u32,
        offset: *offset,
        time,
    };
    let mut head = BytesMut::new();
    local_header(&mut head, &w);
    *offset += (head.len() + bytes.len()) as u32;
    files.push(w);
    (head.freeze(), Bytes::copy_from_slice(bytes))
}

pub async fn ticket_zip(
    State(console): State<Arc<Console>>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> Page {
    let (_, ticket) = visible_ticket(&console, &who, &id).await?;
    let meta = &console.stores.meta;
    let messages = meta
        .messages(
            &ticket.ticket_id,
            &MessageFilter {
                limit: u64::MAX >> 1,
                ..MessageFilter::default()
            },
        )
        .await
        .map_err(failed)?
        .messages;
    let images: Vec<_> = meta
        .ticket_images(&ticket.ticket_id)
        .await
        .map_err(failed)?
        .into_iter()
        .filter(|i| !i.deleted)
        .collect();
    let total: u64 = images.iter().map(|i| i.size).sum();
    if total > MAX_TOTAL || images.len() > MAX_FILES {
        return Err(crate::guard::plain(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too much for one zip (4 GiB, 65,000 images): use `helpdesk images export --ticket ID`",
        ));
    }
    let mut entries = Vec::new();
    for image in &images {
        let Some(message) = messages.iter().find(|m| m.message_id == image.message_id) else {
            continue;
        };
        let ext = ImageType::from_mime(&image.content_type).map_or("bin", |t| t.extension());
        entries.push(ManifestEntry {
            message_id: message.id.clone(),
            message_om_id: message.message_id.clone(),
            created_at: message.created_at,
            index: image.index,
            file_name: file_name(message.created_at, &message.id, image.index, ext),
            size: image.size,
            sha256: image.sha256.clone(),
            content_type: image.content_type.clone(),
        });
    }
    let manifest = Manifest {
        ticket_id: ticket.ticket_id.clone(),
        images: entries,
    };
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    let blobs = console.stores.blobs.clone();
    let now = helpdesk_store::now();
    tokio::spawn(async move {
        let mut files = Vec::new();
        let mut offset = 0u32;
        let json = serde_json::to_vec_pretty(&manifest).unwrap_or_default();
        let (head, body) = file(
            "manifest.json".into(),
            &json,
            dos_time(now),
            &mut offset,
            &mut files,
        );
        if tx.send(Ok(head)).await.is_err() || tx.send(Ok(body)).await.is_err() {
            return;
        }
        for entry in &manifest.images {
            let bytes = match crate::read_blob(blobs.as_ref(), &entry.sha256).await {
                Ok(b) => b,
                Err(e) => {
                    tracing::error!(error = %e, sha256 = %entry.sha256, "console: an image of a zip cannot be read; the zip is cut short");
                    let _ = tx.send(Err(std::io::Error::other(e.to_string()))).await;
                    return;
                }
            };
            let (head, body) = file(
                entry.file_name.clone(),
                &bytes,
                dos_time(entry.created_at),
                &mut offset,
                &mut files,
            );
            if tx.send(Ok(head)).await.is_err() || tx.send(Ok(body)).await.is_err() {
                return;
            }
        }
        let _ = tx.send(Ok(central(&files, offset))).await;
    });
    let stream =
        futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|x| (x, rx)) });
    let mut res = Response::new(Body::from_stream(stream));
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/zip"),
    );
    let disposition = format!(
        "attachment; filename=\"ticket-{}-images.zip\"",
        helpdesk_core::export::clean(&ticket.ticket_id)
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res.into_response())
}
