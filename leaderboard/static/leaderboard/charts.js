// Draws every [data-figure] div from the figure JSON embedded next to it, with the local
// plotly.js (no CDN). The mode bar downloads PNG (Plotly's camera) and SVG (the button added
// here). Each drawn div gets data-rendered="true"; Plotly keeps the figure on the div itself
// (div.data, div.layout), which is where tests and curious users can read the points.
(function () {
  "use strict";
  if (!window.Plotly) return;

  function draw(div) {
    var source = document.getElementById(div.dataset.figure);
    if (!source || div.hidden) return;
    var figure = JSON.parse(source.textContent);
    var config = Object.assign({}, figure.config || {});
    var filename = (config.toImageButtonOptions || {}).filename || div.id;
    config.modeBarButtonsToAdd = [{
      name: "downloadSvg",
      title: "Download plot as SVG",
      icon: window.Plotly.Icons.disk,
      click: function (gd) {
        window.Plotly.downloadImage(gd, { format: "svg", filename: filename });
      }
    }];
    window.Plotly.newPlot(div, figure.data, figure.layout, config).then(function () {
      labelPlot(div);
      div.dataset.rendered = "true";
    });
  }

  // The page gives the div its summary (role="img", aria-label). Once drawn, the div also holds
  // the mode bar's buttons, and an image may not contain controls (WCAG 4.1.2; axe's
  // nested-interactive): the summary moves onto the drawn picture, the first of Plotly's SVG
  // layers, and the layers drawn over it (legend, hover labels) are hidden from screen readers,
  // whose users read the values in the chart's table instead.
  function labelPlot(div) {
    var label = div.getAttribute("aria-label");
    var layers = div.querySelectorAll("svg.main-svg");
    if (!label || !layers.length) return;
    div.removeAttribute("role");
    div.removeAttribute("aria-label");
    layers[0].setAttribute("role", "img");
    layers[0].setAttribute("aria-label", label);
    for (var i = 1; i < layers.length; i++) layers[i].setAttribute("aria-hidden", "true");
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-figure]"), draw);
})();
