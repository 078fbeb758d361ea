// Progressive enhancement: the overview's connector table refreshes itself every 15 s.
// Without this script the page is complete; it is only older until reloaded.
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!live || !window.fetch) { return; }
  var url = live.getAttribute("data-live");
  setInterval(function () {
    if (document.hidden) { return; }
    fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (answer) { return answer.ok ? answer.text() : null; })
      .then(function (html) {
        if (html === null) { return; }
        var parsed = new DOMParser().parseFromString(html, "text/html");
        var table = parsed.getElementById("health");
        var old = document.getElementById("health");
        if (table && old) { old.replaceWith(document.importNode(table, true)); }
      })
      .catch(function () {});
  }, 15000);
})();
