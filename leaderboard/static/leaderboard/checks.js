// Free model checks. On the submit page, "Check my model (free)" sends the same form to the
// check view: its action is switched before upload.js posts it (with its progress bar and
// error box), and put back for "Upload and score". On a check's page, a small JSON endpoint
// is polled until the check is finished; each change of status swaps in the fresh result.
(function () {
  "use strict";
  var button = document.getElementById("check-button");
  var form = button && button.form;
  if (!form) return;
  var original = form.getAttribute("action");
  // Capture on the document runs before upload.js's listener on the form.
  document.addEventListener("submit", function (event) {
    if (event.target !== form) return;
    if (event.submitter === button) {
      form.setAttribute("action", button.formAction);
    } else if (original === null) {
      form.removeAttribute("action");
    } else {
      form.setAttribute("action", original);
    }
  }, true);
})();

(function () {
  "use strict";
  var box = document.getElementById("model-check");
  if (!box || !window.fetch || !window.DOMParser) return;
  var url = box.dataset.statusUrl;
  var DELAY_MS = 1500;

  function finished() {
    return box.dataset.status === "done" || box.dataset.status === "failed";
  }

  function refresh() {
    return fetch(window.location.href, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : ""; })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("model-check");
        if (fresh) {
          box.replaceWith(fresh);
          box = fresh;
        }
      });
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (data && data.status !== box.dataset.status) return refresh();
      })
      .catch(function () {})
      .then(function () { if (!finished()) setTimeout(poll, DELAY_MS); });
  }
  if (!finished()) setTimeout(poll, DELAY_MS);
})();
