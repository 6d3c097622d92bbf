// Keeps a submission's page current while it is queued or running, as "My submissions" is:
// polls its status, updates the badge, and once the status is final (scored or failed) loads
// the page once more, so that its errors or its failure appear. A final status polls no more.
(function () {
  "use strict";
  var box = document.getElementById("submission-status");
  if (!box || !window.fetch) return;
  var url = box.dataset.statusUrl;
  var DELAY_MS = 2000;

  function pending(status) { return status === "queued" || status === "running"; }
  if (!pending(box.dataset.status)) return;

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
        if (s && s.final) {
          window.location.reload(); // the scored page: its errors, insights and record
          return;
        }
        setTimeout(poll, DELAY_MS);
      })
      .catch(function () { setTimeout(poll, DELAY_MS); });
  }
  setTimeout(poll, DELAY_MS);
})();
