/* Every figure of the book enlarges on a tap or a click. Each picture of an article's figures, and each concept
   gallery, is wrapped in a link to the picture itself (without JavaScript the link opens it); the click shows it in a
   dialog, as wide as the screen or at least 720 px (a phone scrolls it sideways), never wider than the picture's
   own pixels. Escape, the close button or a click beside the picture closes it. No library, nothing from a CDN. */
(() => {
  const PICTURES = "article figure img, article img.prunelib-gallery";

  function dialog() {
    const box = document.createElement("dialog");
    box.className = "prunelib-zoom";
    box.setAttribute("aria-label", "Enlarged figure");
    const close = document.createElement("button");
    close.type = "button";
    close.textContent = "×";
    close.setAttribute("aria-label", "Close");
    const big = document.createElement("img");
    box.append(close, big);
    box.addEventListener("click", (event) => { if (event.target !== big) box.close(); });
    document.body.append(box);
    return [box, big];
  }

  function enlargeable() {
    const pictures = [...document.querySelectorAll(PICTURES)].filter((img) => !img.closest(".prunelib-static-explorer"));
    if (!pictures.length) return;
    const [box, big] = dialog();
    for (const img of pictures) {
      let link = img.closest("a");
      if (!link) {
        link = document.createElement("a");
        link.href = img.getAttribute("src");
        img.replaceWith(link);
        link.append(img);
      }
      link.classList.add("prunelib-zoom-link");
      link.setAttribute("aria-label", `Enlarge: ${img.alt}`);
      link.addEventListener("click", (event) => {
        event.preventDefault();
        big.src = img.currentSrc || img.src;
        big.alt = img.alt;
        const wanted = Math.max(document.documentElement.clientWidth - 16, 720);
        big.style.width = `${Math.min(img.naturalWidth || wanted, wanted)}px`;
        box.showModal();
      });
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", enlargeable);
  else enlargeable();
})();
