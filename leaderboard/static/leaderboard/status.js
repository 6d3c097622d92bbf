// Keeps the status column of "My submissions" current by polling a small JSON endpoint.
(function () {
  "use strict";
  var table = document.getElementById("submissions");
  if (!table || !window.fetch) return;
  var url = table.dataset.statusUrl;
  var DELAY_MS = 3000;

  function pending() {
    return Array.prototype.filter.call(table.querySelectorAll("tr[data-id]"), function (tr) {
      return tr.dataset.status === "queued" || tr.dataset.status === "running";
    });
  }

  // A metric the score lacks shows a dash; nothing before the score exists. The JSON holds
  // fractions; the page prints percentages with two decimals, as the metric registry does.
  function fmt(v, scored) {
    if (!scored) return "";
    return v === null || v === undefined ? "\u2013" : (100 * Number(v)).toFixed(2) + "%";
  }

  function update(row, s) {
    row.dataset.status = s.status;
    var cell = row.querySelector(".status");
    cell.innerHTML = "";
    var badge = document.createElement("span");
    badge.className = "status-badge " + s.status;
    badge.textContent = s.status_display;
    cell.appendChild(badge);
    if (s.error_message) {
      var err = document.createElement("div");
      err.className = "error small";
      err.textContent = s.error_message;
      cell.appendChild(err);
    }
    // One cell per metric of the registry, named by its field in the JSON (top1_error...).
    Array.prototype.forEach.call(row.querySelectorAll("td[data-field]"), function (td) {
      td.textContent = fmt(s[td.dataset.field], s.status === "scored");
    });
  }

  function poll() {
    var rows = pending();
    if (rows.length === 0) return;
    var ids = rows.map(function (tr) { return tr.dataset.id; }).join(",");
    fetch(url + "?ids=" + encodeURIComponent(ids), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : { submissions: [] }; })
      .then(function (data) {
        data.submissions.forEach(function (s) {
          var row = table.querySelector('tr[data-id="' + s.id + '"]');
          if (row) update(row, s);
        });
      })
      .catch(function () {})
      .then(function () { setTimeout(poll, DELAY_MS); });
  }
  setTimeout(poll, DELAY_MS);
})();
