// The session detail page: copy buttons, and #run-<id> permalinks that open their run.
(function () {
  "use strict";

  function copyText(text, button) {
    const done = function () {
      const label = button.textContent;
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = label; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { fallbackCopy(text) && done(); });
    } else if (fallbackCopy(text)) {
      done();
    }
  }

  function fallbackCopy(text) {
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    let copied = false;
    try { copied = document.execCommand("copy"); } catch (error) { copied = false; }
    area.remove();
    return copied;
  }

  document.addEventListener("click", function (event) {
    const button = event.target.closest("button.copy-button");
    if (!button) return;
    const source = button.closest(".copyable")?.querySelector("[data-copy-source]");
    if (source) copyText(source.textContent, button);
  });

  // A run on another page of the timeline is found by the server: ?run=<id> opens the right page.
  function openRunFromHash() {
    if (!location.hash.startsWith("#run-")) return;
    let id;
    try { id = decodeURIComponent(location.hash.slice(1)); } catch (error) { return; }
    const run = document.getElementById(id);
    if (!run) {
      const params = new URLSearchParams(location.search);
      if (params.get("run") === id.slice(4)) return;
      params.delete("page");
      params.set("run", id.slice(4));
      location.replace(location.pathname + "?" + params.toString() + location.hash);
      return;
    }
    for (let node = run; node; node = node.parentElement?.closest("details.run")) {
      if (node.tagName === "DETAILS") node.open = true;
    }
    run.scrollIntoView({ block: "start" });
  }

  window.addEventListener("hashchange", openRunFromHash);
  // Deferred, so this listener runs after htmx's own: opening a run then triggers its lazy load.
  document.addEventListener("DOMContentLoaded", openRunFromHash);
})();
