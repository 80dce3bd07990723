use std::path::{Path, PathBuf};

use bytes::Bytes;
use futures::{Stream, StreamExt};
use tokio::io::AsyncWriteExt;

use crate::envelope::{envelope, log_id};
use crate::Error;

/// An image being downloaded (by `ticket_image`, `faq_image` or `im_image`):
/// its metadata, and its bytes as they arrive (nothing is buffered whole).
#[derive(Debug)]
#[non_exhaustive]
pub struct TicketImage {
    /// From `Content-Disposition`, made safe to use as a file name.
    pub file_name: Option<String>,
    /// From `Content-Type`, e.g. `image/png`.
    pub content_type: Option<String>,
    /// From `Content-Length`.
    pub content_length: Option<u64>,
    /// The request's log id.
    pub log_id: Option<String>,
    pub(crate) response: reqwest::Response,
    pub(crate) url: String,
}

impl TicketImage {
    /// Reads a download's 2xx answer. An image answer is HTTP 200 and never
    /// JSON: a JSON body is Feishu's envelope of an error (its download
    /// endpoints have answered some errors with HTTP 200), read as one.
    pub(crate) async fn from_response(
        resp: reqwest::Response,
        url: String,
    ) -> Result<TicketImage, Error> {
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let content_type = header("content-type");
        let is_json = content_type.as_deref().is_some_and(|ct| {
            ct.split(';')
                .next()
                .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
        });
        if is_json {
            let (status, log_id, _) = envelope(resp).await?;
            return Err(Error::Protocol {
                status,
                log_id,
                detail: "an image answer was JSON with code 0".into(),
            });
        }
        if resp.status() != reqwest::StatusCode::OK {
            return Err(Error::Protocol {
                status: resp.status().as_u16(),
                log_id: log_id(&resp),
                detail: "an image answer is HTTP 200".into(),
            });
        }
        Ok(TicketImage {
            file_name: header("content-disposition")
                .and_then(|h| helpdesk_core::disposition::parse_file_name(&h)),
            content_type,
            content_length: resp.content_length(),
            log_id: log_id(&resp),
            url,
            response: resp,
        })
    }

    /// The file extension of the content type, without a dot (`png`, `jpg`…).
    pub fn extension(&self) -> Option<&'static str> {
        self.content_type
            .as_deref()
            .and_then(|ct| {
                helpdesk_core::ImageType::from_mime(ct.split(';').next().unwrap_or("").trim())
            })
            .map(|t| t.extension())
    }

    /// The bytes, chunk by chunk.
    pub fn bytes_stream(self) -> impl Stream<Item = Result<Bytes, Error>> {
        let url = self.url;
        self.response.bytes_stream().map(move |chunk| {
            chunk.map_err(|source| Error::Transport {
                url: url.clone(),
                source,
            })
        })
    }

    /// All the bytes in memory.
    pub async fn bytes(self) -> Result<Bytes, Error> {
        let url = self.url;
        self.response
            .bytes()
            .await
            .map_err(|source| Error::Transport { url, source })
    }

    /// Writes the image to `path` atomically: into a temporary file beside
    /// it, synced, then renamed over `path`. If the download breaks off, the
    /// temporary file is removed and `path` is left as it was. Returns the
    /// number of bytes written.
    pub async fn save(self, path: impl AsRef<Path>) -> Result<u64, Error> {
        let path = path.as_ref();
        let tmp = temporary_beside(path);
        let io = |source| Error::Io {
            path: path.display().to_string(),
            source,
        };
        let result = async {
            let mut file = tokio::fs::File::create(&tmp).await.map_err(io)?;
            let mut written = 0u64;
            let mut stream = std::pin::pin!(self.bytes_stream());
            while let Some(chunk) = stream.next().await {
                let chunk = chunk?;
                file.write_all(&chunk).await.map_err(io)?;
                written += chunk.len() as u64;
            }
            file.sync_all().await.map_err(io)?;
            Ok(written)
        }
        .await;
        match result {
            Ok(written) => {
                if let Err(e) = tokio::fs::rename(&tmp, path).await {
                    let _ = tokio::fs::remove_file(&tmp).await;
                    return Err(io(e));
                }
                Ok(written)
            }
            Err(e) => {
                let _ = tokio::fs::remove_file(&tmp).await;
                Err(e)
            }
        }
    }
}

fn temporary_beside(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tag: u32 = rand::random();
    path.with_file_name(format!(".{name}.{tag:08x}.partial"))
}
