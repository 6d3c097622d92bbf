// Keeps a submission's page current while it is queued or running, as "My submissions" is:
// polls its status, updates the badge, and once the status is final (scored or failed) loads
// the page once more, so that its errors or its failure appear. A final status polls no more,
// except that a scored page whose "What the network sees" panels are still being computed
// (#insights-pending), or whose robustness run is still to come (#robustness-pending), polls
// until the worker has stored them, then loads once more.
(function () {
  "use strict";
  var box = document.getElementById("submission-status");
  if (!box || !window.fetch) return;
  var url = box.dataset.statusUrl;
  var DELAY_MS = 2000;
  var waitingForInsights = !!document.getElementById("insights-pending");
  var waitingForRobustness = !!document.getElementById("robustness-pending");
  var INSIGHTS_GIVE_UP_MS = 5 * 60 * 1000; // the server stops saying "pending" before this
  var ROBUSTNESS_GIVE_UP_MS = 30 * 60 * 1000; // a long queue: reloading by hand still works
  var started = Date.now();

  function pending(status) { return status === "queued" || status === "running"; }
  if (!pending(box.dataset.status) && !waitingForInsights && !waitingForRobustness) return;

  function robustnessIn(s) {
    return !waitingForRobustness || (s.robustness !== "pending" && s.robustness !== "running");
  }

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
        if (s && s.final && (!waitingForInsights || s.insights) && robustnessIn(s)) {
          window.location.reload(); // the scored page: its errors, insights and record
          return;
        }
        var waited = Date.now() - started;
        if (s && s.final && waitingForInsights && !s.insights && waited > INSIGHTS_GIVE_UP_MS) {
          waitingForInsights = false; // the panels will not come; the robustness run may
          if (!waitingForRobustness) return;
        }
        if (waitingForRobustness && waited > ROBUSTNESS_GIVE_UP_MS) return;
        setTimeout(poll, DELAY_MS);
      })
      .catch(function () { setTimeout(poll, DELAY_MS); });
  }
  setTimeout(poll, DELAY_MS);
})();
