// The lightbox of a ticket's images: a <dialog>, opened from a thumbnail,
// arrow keys to move, Esc (the dialog's own) to close; focus returns to the
// thumbnail that opened it. Without this script the thumbnails are links
// to the originals.
(function () {
  "use strict";
  const dialog = document.getElementById("lightbox");
  if (!dialog) return;
  const img = document.getElementById("lightbox-img");
  const caption = document.getElementById("lightbox-caption");
  const download = document.getElementById("lightbox-download");
  const links = Array.from(document.querySelectorAll("a.thumb"));
  let at = -1;
  let opener = null;

  function show(i) {
    at = (i + links.length) % links.length;
    const link = links[at];
    const thumb = link.querySelector("img");
    img.src = link.href;
    img.alt = thumb ? thumb.alt : "";
    caption.textContent = (thumb ? thumb.alt : "") + " (" + (at + 1) + " of " + links.length + ")";
    download.href = link.href;
  }

  links.forEach(function (link, i) {
    link.addEventListener("click", function (e) {
      e.preventDefault();
      opener = link;
      show(i);
      dialog.showModal();
    });
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
})();
