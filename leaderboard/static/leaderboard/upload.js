// Submit form with an upload progress bar. Without JavaScript the form posts normally.
(function () {
  "use strict";
  var form = document.getElementById("submit-form");
  if (!form || !window.XMLHttpRequest || !window.FormData) return;
  var box = document.getElementById("upload-progress");
  var bar = document.getElementById("upload-bar");
  var text = document.getElementById("upload-text");
  var errors = document.getElementById("upload-errors");
  var button = form.querySelector("button[type=submit]");
  var locked = button.disabled; // no submissions left: only the free check may post the form
  var maxBytes = parseInt(form.dataset.maxBytes, 10);

  function showErrors(messages) {
    errors.innerHTML = "";
    messages.forEach(function (m) {
      var p = document.createElement("p");
      p.textContent = m;
      errors.appendChild(p);
    });
    errors.hidden = messages.length === 0;
  }

  function mb(bytes) { return (bytes / 1048576).toFixed(1) + " MB"; }

  form.addEventListener("submit", function (event) {
    var fileInput = form.querySelector("input[type=file]");
    var file = fileInput && fileInput.files[0];
    if (file && maxBytes && file.size > maxBytes) {
      event.preventDefault();
      showErrors(["The file is " + mb(file.size) + "; this edition accepts at most " + mb(maxBytes) + "."]);
      return;
    }
    event.preventDefault();
    showErrors([]);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action || window.location.href);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("X-CSRFToken", form.querySelector("[name=csrfmiddlewaretoken]").value);
    box.hidden = false;
    button.disabled = true;
    xhr.upload.onprogress = function (e) {
      if (!e.lengthComputable) return;
      var pct = Math.round((e.loaded / e.total) * 100);
      bar.style.width = pct + "%";
      text.textContent = mb(e.loaded) + " of " + mb(e.total) + " (" + pct + "%)";
    };
    xhr.upload.onload = function () { text.textContent = "Uploaded; checking the file…"; };
    xhr.onload = function () {
      var body = null;
      try { body = JSON.parse(xhr.responseText); } catch (err) { body = null; }
      if (xhr.status >= 200 && xhr.status < 300 && body && body.redirect) {
        window.location.assign(body.redirect);
        return;
      }
      button.disabled = locked;
      box.hidden = true;
      var messages = [];
      if (body && body.errors) {
        Object.keys(body.errors).forEach(function (k) { messages = messages.concat(body.errors[k]); });
      } else {
        messages.push("The upload failed (HTTP " + xhr.status + ").");
      }
      showErrors(messages);
    };
    xhr.onerror = function () {
      button.disabled = locked;
      box.hidden = true;
      showErrors(["The connection was lost during the upload. Please try again."]);
    };
    xhr.send(new FormData(form));
  });
})();
