// Search as you type for a participants field (see templates/web/participants_search.hbs).
(function () {
  var input = document.getElementById("participants");
  var list = document.getElementById("participants-list");
  if (!input || !list) return;
  var url = input.getAttribute("data-search") || "/search/participants";
  var timer = null;
  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      var parts = input.value.split(",");
      var term = parts.pop().trim();
      var before = parts.map(function (p) { return p.trim(); }).filter(Boolean);
      if (term.length < 2) { list.replaceChildren(); return; }
      fetch(url + (url.indexOf("?") < 0 ? "?" : "&") + "q=" + encodeURIComponent(term), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : []; })
        .then(function (items) {
          list.replaceChildren.apply(list, items.map(function (it) {
            var o = document.createElement("option");
            o.value = before.concat([it.value]).join(", ");
            o.textContent = it.label;
            return o;
          }));
        }).catch(function () {});
    }, 200);
  });
})();
