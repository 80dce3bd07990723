//! `helpdesk images export --faq ID`: every image of an FAQ's answer (the
//! image elements of its `answer_richtext`, in order) into a directory, as
//! the ticket's export does: the same atomic saves, the same manifest.json
//! written last (its own fields: an FAQ's image is named by its place in the
//! answer and its image_key, where a ticket's is by message and index), and
//! a re-run that downloads only what is missing or changed.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{bail, Context, Result};
use futures::StreamExt;
use helpdesk_client::Client;
use serde::{Deserialize, Serialize};

use crate::images::{clean, explain, extension_of, sha256_of, write_manifest, Progress, Remote};

/// One image of manifest.json.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
struct Entry {
    /// Its place among the answer's images, from 0.
    index: u32,
    image_key: String,
    file_name: String,
    size: u64,
    sha256: String,
    content_type: String,
}

#[derive(Serialize, Deserialize, Default)]
struct Manifest {
    faq_id: String,
    images: Vec<Entry>,
}

/// `{index}_{image_key}.{ext}`, safe on every OS: the answer's order sorts
/// by name, and the key tells two images apart.
fn file_name(index: u32, image_key: &str, ext: &str) -> String {
    format!("{index:03}_{}.{}", clean(image_key), clean(ext))
}

/// Downloads one image, unless the file of the previous run is still there
/// with its size and sha256.
async fn fetch(
    client: &Client,
    faq: &str,
    out: &Path,
    index: u32,
    key: &str,
    before: Option<&Entry>,
) -> Result<(Entry, bool)> {
    if let Some(prev) = before {
        if let Ok((size, sha)) = sha256_of(&out.join(&prev.file_name)).await {
            if size == prev.size && sha == prev.sha256 {
                return Ok((prev.clone(), false));
            }
        }
    }
    let image = client.faq_image(faq, key).await?;
    let content_type = image.content_type.clone().unwrap_or_default();
    let name = file_name(index, key, &extension_of(&image));
    let path = out.join(&name);
    image.save(&path).await?;
    let (size, sha256) = sha256_of(&path)
        .await
        .with_context(|| format!("reading back {}", path.display()))?;
    let entry = Entry {
        index,
        image_key: key.to_string(),
        file_name: name,
        size,
        sha256,
        content_type,
    };
    Ok((entry, true))
}

/// An image's place, its key, and its entry (with whether it was
/// downloaded) or why not.
type Outcome = (u32, String, Result<(Entry, bool)>);

pub(crate) async fn export(
    remote: &Remote,
    faq: &str,
    out: &Path,
    concurrency: usize,
) -> Result<()> {
    let client = remote.client()?;
    let answer = client
        .faq(faq)
        .await
        .map_err(|e| explain(e, &remote.base_url))?;
    // Every image element, a key used twice included: the manifest is the
    // answer's images as it shows them.
    let keys: Vec<(u32, String)> = answer
        .image_keys()
        .into_iter()
        .enumerate()
        .map(|(i, k)| (i as u32, k.to_string()))
        .collect();
    tokio::fs::create_dir_all(out)
        .await
        .with_context(|| format!("creating {}", out.display()))?;
    let manifest_path = out.join("manifest.json");
    // A previous run's entry counts for the same image at the same place.
    let previous: HashMap<(u32, String), Entry> = match tokio::fs::read(&manifest_path).await {
        Ok(bytes) => serde_json::from_slice::<Manifest>(&bytes)
            .ok()
            .filter(|m| m.faq_id == faq)
            .map(|m| {
                m.images
                    .into_iter()
                    .map(|e| ((e.index, e.image_key.clone()), e))
                    .collect()
            })
            .unwrap_or_default(),
        Err(_) => HashMap::new(),
    };

    let total = keys.len();
    let progress = Progress::new(total as u64);
    let mut results: Vec<Outcome> = futures::stream::iter(&keys)
        .map(|(index, key)| {
            let (client, previous, progress) = (&client, &previous, &progress);
            async move {
                let before = previous.get(&(*index, key.clone()));
                let result = fetch(client, faq, out, *index, key, before).await;
                let label = format!("image {index} ({key})");
                progress.finished(
                    &label,
                    result.as_ref().map(|(e, downloaded)| {
                        if *downloaded {
                            (format!("saved {} ({} bytes)", e.file_name, e.size), e.size)
                        } else {
                            (format!("unchanged {}", e.file_name), 0)
                        }
                    }),
                );
                (*index, key.clone(), result)
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    progress.clear();
    results.sort_by_key(|(index, _, _)| *index);

    let mut images = Vec::new();
    let mut failures = Vec::new();
    let (mut downloaded, mut unchanged, mut bytes) = (0, 0, 0u64);
    for (index, key, result) in results {
        match result {
            Ok((e, true)) => {
                downloaded += 1;
                bytes += e.size;
                images.push(e);
            }
            Ok((e, false)) => {
                unchanged += 1;
                images.push(e);
            }
            Err(e) => failures.push(format!("image {index} ({key}): {e:#}")),
        }
    }
    let manifest = Manifest {
        faq_id: faq.to_string(),
        images,
    };
    write_manifest(&manifest_path, &manifest).await?;

    eprintln!(
        "{total} image(s): {downloaded} downloaded ({bytes} bytes), {unchanged} already present, {} failed; manifest: {}",
        failures.len(),
        manifest_path.display()
    );
    for f in &failures {
        eprintln!("failed: {f}");
    }
    if !failures.is_empty() {
        bail!(
            "{} of {total} image(s) could not be downloaded (listed above)",
            failures.len()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_sort_in_the_answer_s_order_and_are_safe() {
        assert_eq!(file_name(2, "img_v2/../x", "png"), "002_img_v2____x.png");
        assert!(file_name(9, "a", "png") < file_name(10, "a", "png"));
    }
}
