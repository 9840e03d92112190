// Search over every figure, offline: the index is a script (search-index.js) that sets
// window.AIF_FIGURES, so the page works from disk as well as from a web server.
// Each entry: [url, subject, metric, value as written, period, quote, document title].
(function () {
  "use strict";
  var LIMIT = 200;
  function words(text) {
    return text.toLowerCase().split(/\s+/).filter(function (w) { return w.length > 0; });
  }
  function render(query) {
    var list = document.getElementById("results");
    var status = document.getElementById("status");
    list.textContent = "";
    var wanted = words(query);
    if (wanted.length === 0) { status.textContent = "Type words of a subject, a metric or a quote."; return; }
    // Every figure whose text holds every word; those whose subject and metric hold most of
    // the words first, then in the order of their documents.
    var matches = [];
    for (var i = 0; i < window.AIF_FIGURES.length; i++) {
      var entry = window.AIF_FIGURES[i];
      var text = entry.slice(1).join(" ").toLowerCase();
      if (!wanted.every(function (w) { return text.indexOf(w) !== -1; })) { continue; }
      var head = (entry[1] + " " + entry[2]).toLowerCase().replace(/_/g, " ");
      var score = wanted.filter(function (w) { return head.indexOf(w) !== -1; }).length;
      matches.push({ entry: entry, score: score, order: i });
    }
    matches.sort(function (a, b) { return b.score - a.score || a.order - b.order; });
    var found = matches.length;
    for (var m = 0; m < Math.min(found, LIMIT); m++) {
      entry = matches[m].entry;
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = entry[0];
      link.textContent = entry[1] + " · " + entry[2] + " · " + entry[3] + (entry[4] ? " · " + entry[4] : "");
      item.appendChild(link);
      var quote = document.createElement("div");
      quote.className = "quote";
      quote.textContent = "“" + entry[5] + "” (" + entry[6] + ")";
      item.appendChild(quote);
      list.appendChild(item);
    }
    status.textContent = found === 0 ? "No figure matches every word." :
      found + (found === 1 ? " figure" : " figures") + (found > LIMIT ? " (the first " + LIMIT + " shown)" : "");
  }
  document.addEventListener("DOMContentLoaded", function () {
    var query = new URLSearchParams(window.location.search).get("q") || "";
    var box = document.getElementById("q");
    box.value = query;
    render(query);
    box.addEventListener("input", function () { render(box.value); });
  });
})();
