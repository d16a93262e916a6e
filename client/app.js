// The page's script, served by the gateway at /assets/app.js. It runs after
// /assets/phoenix.min.js and /assets/phoenix_live_view.min.js, the official
// prebuilt bundles, which define the globals `Phoenix` and `LiveView`.
// The LiveView client never reads the CSRF meta tag itself: copy it into the
// socket params (protocol.md §1.1). No long-poll fallback (§1.2).
//
// The rest serves the demo's layout (demo/src/layout.rs), which is outside the live
// container and so never patched by the server; each part does nothing when the
// layout lacks its element:
// - `#nav`: the link to the current page gets aria-current="page", again after each
//   live navigation (`phx:navigate`, `phx:page-loading-stop`).
// - `#connection`: mirrors the main container's classes (phx-connected, phx-loading,
//   phx-error, set by the official client) into data-state and a label. The colours
//   and `#connection-lost` come from app.css, which reads the same classes.
// - `#topbar`: a progress bar from `phx:page-loading-start` to `phx:page-loading-stop`,
//   shown only once a load has lasted 120 ms so that fast navigations do not flash it.
(function () {
  "use strict";
  var meta = document.querySelector("meta[name='csrf-token']");
  var csrfToken = meta ? meta.getAttribute("content") : null;
  var liveSocket = new LiveView.LiveSocket("/live", Phoenix.Socket, {
    params: { _csrf_token: csrfToken },
  });

  // --- #nav: which link is the current page -----------------------------------------

  // A link marks every page of its first path segment: /chat/lobby marks /chat/other.
  function section(pathname) {
    return pathname.split("/")[1] || "";
  }

  function markCurrentLink() {
    var here = section(window.location.pathname);
    var links = document.querySelectorAll("#nav a[href]");
    for (var i = 0; i < links.length; i++) {
      if (section(links[i].pathname) === here) {
        links[i].setAttribute("aria-current", "page");
        centerInNav(links[i]);
      } else {
        links[i].removeAttribute("aria-current");
      }
    }
  }

  // On a phone the nav scrolls sideways: keep the current link in view.
  function centerInNav(link) {
    var nav = link.parentNode;
    if (nav.scrollWidth <= nav.clientWidth) return;
    var offset = link.getBoundingClientRect().left - nav.getBoundingClientRect().left;
    nav.scrollLeft += offset - (nav.clientWidth - link.offsetWidth) / 2;
  }

  markCurrentLink();
  window.addEventListener("phx:navigate", markCurrentLink);
  window.addEventListener("phx:page-loading-stop", markCurrentLink);

  // --- #connection: the main container's state -------------------------------------

  var connection = document.getElementById("connection");
  var LABELS = { connected: "Connected", loading: "Connecting…", disconnected: "Reconnecting…" };

  function connectionState() {
    var main = document.querySelector("[data-phx-main]");
    if (main && main.classList.contains("phx-error")) return "disconnected";
    if (main && main.classList.contains("phx-connected")) return "connected";
    return "loading";
  }

  function showConnection() {
    var state = connectionState();
    if (connection.getAttribute("data-state") === state) return;
    connection.setAttribute("data-state", state);
    connection.setAttribute("title", LABELS[state]);
    var label = connection.querySelector(".connection-label");
    if (label) label.textContent = LABELS[state];
  }

  if (connection) {
    showConnection();
    // Class changes anywhere in the body (the container is replaced on each live
    // navigation); the callback reads one element, once per batch of mutations.
    new MutationObserver(showConnection).observe(document.body, {
      subtree: true,
      attributes: true,
      attributeFilter: ["class"],
    });
    var main = document.querySelector("[data-phx-main]");
    if (main && main.parentNode) {
      new MutationObserver(showConnection).observe(main.parentNode, { childList: true });
    }
  }

  // --- #topbar: live navigation in progress ----------------------------------------

  var topbar = document.getElementById("topbar");
  var SHOW_AFTER_MS = 120;
  var showTimer = null;
  var shown = false;
  var resetTimer = null;

  function startTopbar() {
    if (showTimer !== null || shown) return;
    showTimer = setTimeout(function () {
      showTimer = null;
      shown = true;
      clearTimeout(resetTimer);
      topbar.classList.remove("done");
      // Flush the reset (no transition) before the bar starts growing again.
      void topbar.offsetWidth;
      topbar.classList.add("running");
    }, SHOW_AFTER_MS);
  }

  function stopTopbar() {
    if (showTimer !== null) {
      clearTimeout(showTimer);
      showTimer = null;
    }
    if (!shown) return;
    shown = false;
    topbar.classList.remove("running");
    topbar.classList.add("done");
    // Back to its hidden start once the finish has faded out (app.css: 0.5 s).
    resetTimer = setTimeout(function () {
      if (!shown) topbar.classList.remove("done");
    }, 600);
  }

  if (topbar) {
    window.addEventListener("phx:page-loading-start", startTopbar);
    window.addEventListener("phx:page-loading-stop", stopTopbar);
  }

  liveSocket.connect();
  window.liveSocket = liveSocket;
})();
