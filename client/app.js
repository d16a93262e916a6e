// The page's script, served by the gateway at /assets/app.js. It runs after
// /assets/phoenix.min.js and /assets/phoenix_live_view.min.js, the official
// prebuilt bundles, which define the globals `Phoenix` and `LiveView`.
// The LiveView client never reads the CSRF meta tag itself: copy it into the
// socket params (protocol.md §1.1). No long-poll fallback (§1.2).
(function () {
  "use strict";
  var meta = document.querySelector("meta[name='csrf-token']");
  var csrfToken = meta ? meta.getAttribute("content") : null;
  var liveSocket = new LiveView.LiveSocket("/live", Phoenix.Socket, {
    params: { _csrf_token: csrfToken },
  });
  liveSocket.connect();
  window.liveSocket = liveSocket;
})();
