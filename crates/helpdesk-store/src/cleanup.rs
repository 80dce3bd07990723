//! Removing the bytes no row uses: the only code that deletes objects. It
//! sits above both stores, as ingest does, and follows the rules written on
//! `ImageRepo`: the object goes only under a `BlobClaim`.

use std::collections::BTreeSet;

use helpdesk_core::ids::MessageRef;

use crate::{BlobStore, DeletedImage, ImageRepo, Result};

/// Deletes a message's image (all of them with no index; see
/// `ImageRepo::delete_message_images`), then the objects no live row
/// uses any more. The deletion stands even if storage fails to remove an
/// object: that image says `blob_removed: false`, and `sweep` removes the
/// object later.
pub async fn delete_images(
    images: &dyn ImageRepo,
    blobs: &dyn BlobStore,
    ticket_id: &str,
    msg: MessageRef<'_>,
    index: Option<u32>,
) -> Result<Vec<DeletedImage>> {
    let mut deleted = images.delete_message_images(ticket_id, msg, index).await?;
    remove_objects_of(images, blobs, &mut deleted).await;
    Ok(deleted)
}

/// Removes the objects of `deleted` images that no live row uses any more,
/// and marks each image whose object went (`blob_removed`). An object that
/// storage fails to remove stays for `sweep`.
pub async fn remove_objects_of(
    images: &dyn ImageRepo,
    blobs: &dyn BlobStore,
    deleted: &mut [DeletedImage],
) {
    let shas: BTreeSet<String> = deleted.iter().map(|d| d.sha256.clone()).collect();
    let mut removed = BTreeSet::new();
    for sha256 in shas {
        if let Ok(true) = remove_if_unreferenced(images, blobs, &sha256).await {
            removed.insert(sha256);
        }
    }
    for d in deleted {
        d.blob_removed = removed.contains(&d.sha256);
    }
}

/// Removes the object and the row of `sha256` if no live row refers to it;
/// true when it did.
pub async fn remove_if_unreferenced(
    images: &dyn ImageRepo,
    blobs: &dyn BlobStore,
    sha256: &str,
) -> Result<bool> {
    let Some(claim) = images.claim_unreferenced_blob(sha256).await? else {
        return Ok(false);
    };
    // On failure the claim is dropped: the row stays, for a later sweep.
    blobs.delete(sha256).await?;
    claim.forget().await?;
    Ok(true)
}

/// Removes the objects a crash between a delete and its cleanup left behind
/// (at most `limit` of them); returns how many it removed.
pub async fn sweep(images: &dyn ImageRepo, blobs: &dyn BlobStore, limit: u32) -> Result<usize> {
    let mut removed = 0;
    for sha256 in images.unreferenced_blobs(limit).await? {
        if remove_if_unreferenced(images, blobs, &sha256).await? {
            removed += 1;
        }
    }
    Ok(removed)
}
