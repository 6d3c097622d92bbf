// Keeps a submission's page current while it is queued or running, as "My submissions" is:
// polls its status, updates the badge, and once the status is final (scored or failed) loads
// the page once more, so that its errors or its failure appear. A final status polls no more,
// except that a scored page whose "What the network sees" panels are still being computed
// (#insights-pending) polls until the worker has stored them, then loads once more.
(function () {
  "use strict";
  var box = document.getElementById("submission-status");
  if (!box || !window.fetch) return;
  var url = box.dataset.statusUrl;
  var DELAY_MS = 2000;
  var waitingForInsights = !!document.getElementById("insights-pending");
  var INSIGHTS_GIVE_UP_MS = 5 * 60 * 1000; // the server stops saying "pending" before this
  var started = Date.now();

  function pending(status) { return status === "queued" || status === "running"; }
  if (!pending(box.dataset.status) && !waitingForInsights) return;

  function show(s) {
    box.dataset.status = s.status;
    var badge = document.createElement("span");
    badge.className = "status-badge " + s.status;
    badge.textContent = s.status_display;
    box.innerHTML = "";
    box.appendChild(badge);
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (s) {
        if (s && s.status !== box.dataset.status) show(s);
        if (s && s.final && (!waitingForInsights || s.insights)) {
          window.location.reload(); // the scored page: its errors, insights and record
          return;
        }
        if (waitingForInsights && Date.now() - started > INSIGHTS_GIVE_UP_MS) return;
        setTimeout(poll, DELAY_MS);
      })
      .catch(function () { setTimeout(poll, DELAY_MS); });
  }
  setTimeout(poll, DELAY_MS);
})();
