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
      div.dataset.rendered = "true";
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-figure]"), draw);
})();
