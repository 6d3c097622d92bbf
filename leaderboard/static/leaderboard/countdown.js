// Live countdowns: <time data-countdown datetime="ISO 8601"> shows the time left until then,
// to the second, from the visitor's own clock. At zero it shows data-done (and the page may
// be reloaded to see what changed, e.g. the private leaderboard).
(function () {
  "use strict";
  var clocks = document.querySelectorAll("time[data-countdown]");
  if (!clocks.length) return;

  function two(n) { return (n < 10 ? "0" : "") + n; }

  function text(ms) {
    var s = Math.floor(ms / 1000);
    var days = Math.floor(s / 86400);
    s -= days * 86400;
    var clock = two(Math.floor(s / 3600)) + ":" + two(Math.floor((s % 3600) / 60)) + ":" + two(s % 60);
    return (days > 0 ? days + (days === 1 ? " day " : " days ") : "") + clock;
  }

  function tick() {
    var now = Date.now();
    Array.prototype.forEach.call(clocks, function (el) {
      var left = Date.parse(el.getAttribute("datetime")) - now;
      if (isNaN(left)) return;
      if (left <= 0) {
        el.textContent = el.dataset.done || "now";
        el.classList.add("done");
      } else {
        el.textContent = text(left);
      }
    });
  }
  tick();
  setInterval(tick, 1000);
})();
