// The console's own script. Without it every page still works: thumbnails
// are links to the originals, and a reload shows what is new.
//
// - The lightbox of a ticket's (or FAQ's) images: a <dialog>, opened from a
//   thumbnail, arrow keys to move, Esc (the dialog's own) to close; focus
//   returns to the thumbnail that opened it. Thumbnails the live stream adds
//   join in: the list is read when the lightbox opens.
// - Thumbnails at twice the pixels on high-density screens.
// - Copy buttons: an image's ticket_images (or faq_image) curl, an event's curl.
// - The live stream's items at most once: a page read the store after the
//   feed's head it streams from, so an item that committed in between comes
//   in the page and again in the stream; the stream's copy is dropped.
(function () {
  "use strict";

  const dialog = document.getElementById("lightbox");
  if (dialog) {
    const img = document.getElementById("lightbox-img");
    const caption = document.getElementById("lightbox-caption");
    const download = document.getElementById("lightbox-download");
    let links = [];
    let at = -1;
    let opener = null;

    const show = function (i) {
      at = (i + links.length) % links.length;
      const link = links[at];
      const thumb = link.querySelector("img");
      img.src = link.href;
      img.alt = thumb ? thumb.alt : "";
      caption.textContent = (thumb ? thumb.alt : "") + " (" + (at + 1) + " of " + links.length + ")";
      download.href = link.href;
    };

    document.addEventListener("click", function (e) {
      const link = e.target.closest && e.target.closest("a.thumb");
      if (!link) return;
      e.preventDefault();
      links = Array.from(document.querySelectorAll("a.thumb"));
      opener = link;
      show(links.indexOf(link));
      dialog.showModal();
    });
    document.getElementById("lightbox-prev").addEventListener("click", function () { show(at - 1); });
    document.getElementById("lightbox-next").addEventListener("click", function () { show(at + 1); });
    document.getElementById("lightbox-close").addEventListener("click", function () { dialog.close(); });
    dialog.addEventListener("keydown", function (e) {
      if (e.key === "ArrowRight") { e.preventDefault(); show(at + 1); }
      if (e.key === "ArrowLeft") { e.preventDefault(); show(at - 1); }
    });
    dialog.addEventListener("close", function () {
      img.removeAttribute("src");
      if (opener) opener.focus();
    });
  }

  // Sharper thumbnails on screens of more than one pixel per CSS pixel:
  // the 400 px rendering, asked for here rather than written into every
  // image of the page (a ticket's page holds hundreds).
  const sharpen = function (root) {
    if (!(window.devicePixelRatio > 1) || !root.querySelectorAll) return;
    root.querySelectorAll("a.thumb img[src$='/thumb?w=200']").forEach(function (img) {
      if (!img.srcset) img.srcset = img.getAttribute("src").replace(/w=200$/, "w=400") + " 2x";
    });
  };
  sharpen(document);
  document.addEventListener("htmx:load", function (e) { sharpen(e.target); });

  document.addEventListener("htmx:sseBeforeMessage", function (e) {
    const parsed = document.createElement("template");
    parsed.innerHTML = e.detail.data;
    const item = parsed.content.firstElementChild;
    if (item && item.id && document.getElementById(item.id)) e.preventDefault();
  });

  const say = function (text) {
    const region = document.getElementById("live-say");
    if (region) region.textContent = text;
  };

  const copy = function (text, button) {
    const done = function () {
      const was = button.textContent;
      button.textContent = "Copied";
      say("Copied to the clipboard");
      setTimeout(function () { button.textContent = was; }, 1500);
    };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(done, function () { say("The browser refused the clipboard"); });
    }
  };

  // An image's curl: a ticket's ticket_images, or an FAQ's faq_image.
  const imageCurl = function (button) {
    const item = button.closest("li");
    const link = item && item.querySelector("a.thumb");
    const list = document.getElementById("timeline") || document.getElementById("faq-images");
    if (!link || !list) return null;
    let path;
    if (list.dataset.faq) {
      path = "/open-apis/helpdesk/v1/faqs/" + encodeURIComponent(list.dataset.faq) +
        "/image/" + encodeURIComponent(link.dataset.key);
    } else {
      // The thumbnail links to .../messages/{msg_id}/images/{index}.
      const at = new URL(link.href).pathname.match(/\/messages\/([^/]+)\/images\/(\d+)$/);
      if (!at) return null;
      path = "/open-apis/helpdesk/v1/ticket_images?" + new URLSearchParams({
        ticket_id: list.dataset.ticket,
        msg_id: decodeURIComponent(at[1]),
        index: at[2],
      }).toString();
    }
    return 'curl -H "Authorization: Bearer $TOKEN" -H "X-Lark-Helpdesk-Authorization: $HELPDESK_CREDENTIAL" "' +
      list.dataset.api + path + '"';
  };

  document.addEventListener("click", function (e) {
    const button = e.target.closest && e.target.closest("button.copy-curl, button.copy");
    if (!button) return;
    let text = null;
    if (button.classList.contains("copy-curl")) {
      text = imageCurl(button);
    } else {
      const source = document.getElementById(button.dataset.copy);
      text = source ? source.value : null;
    }
    if (text) {
      button.dataset.copied = text;
      copy(text, button);
    }
  });
})();
