// The intake console: caller history as the phone is typed, answer-bank search, keyboard shortcuts.
// Everything is rendered with textContent, never innerHTML: case data is user input.
(function () {
  "use strict";
  var form = document.getElementById("intake");
  if (!form) return;

  function debounce(fn, ms) {
    var timer;
    return function () { var args = arguments; clearTimeout(timer); timer = setTimeout(function () { fn.apply(null, args); }, ms); };
  }
  function el(tag, text, cls) { var e = document.createElement(tag); if (text) e.textContent = text; if (cls) e.className = cls; return e; }
  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; });
  }

  // Ctrl+Enter registers from anywhere in the form.
  form.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); form.requestSubmit(); }
  });

  // Show only the parts that matter for the chosen kind.
  function kindChanged() {
    var checked = form.querySelector("input[name=kind]:checked");
    var kind = checked ? checked.value : "complaint";
    form.dataset.kind = kind;
  }
  form.querySelectorAll("input[name=kind]").forEach(function (r) { r.addEventListener("change", kindChanged); });
  kindChanged();

  // The caller's earlier cases, as soon as the phone number is complete enough.
  var panel = document.getElementById("caller-panel");
  var phone = document.getElementById("caller-phone");
  if (panel && phone) {
    var list = document.getElementById("caller-cases");
    var empty = document.getElementById("caller-empty");
    var labels = JSON.parse(panel.dataset.labels || "{}");
    var lookup = debounce(function () {
      var digits = phone.value.replace(/\D/g, "");
      if (digits.length < 7) { list.textContent = ""; return; }
      getJSON(panel.dataset.api.replace("PHONE", encodeURIComponent(digits))).then(function (data) {
        list.textContent = "";
        if (!data) return;
        empty.textContent = data.items.length ? "" : (panel.dataset.none || "—");
        data.items.forEach(function (c) {
          var li = el("li");
          var a = el("a", c.number, "number");
          a.href = panel.dataset.caseUrl.replace("NUMBER", c.number);
          li.appendChild(a);
          li.appendChild(document.createTextNode(" " + (c.received_at || "").slice(0, 10) + " · " + (labels[c.status] || c.status)));
          li.appendChild(el("br"));
          li.appendChild(el("span", c.subject + (c.business.name ? " — " + c.business.name : ""), "muted"));
          list.appendChild(li);
        });
      });
    }, 250);
    phone.addEventListener("input", lookup);
    if (phone.value) lookup();
  }

  // Answer bank: search, then pick an answer to fill it in.
  var answers = document.getElementById("answer-panel");
  if (answers) {
    var search = document.getElementById("answer-search");
    var results = document.getElementById("answer-results");
    var text = document.getElementById("answer-text");
    var code = document.getElementById("answer-code");
    var find = debounce(function () {
      getJSON(answers.dataset.api + "?q=" + encodeURIComponent(search.value)).then(function (data) {
        results.textContent = "";
        if (!data) return;
        data.items.forEach(function (a) {
          var li = el("li");
          var b = el("button", a.code + " " + a.title, "link");
          b.type = "button";
          b.title = a.body;
          b.addEventListener("click", function () {
            var consult = form.querySelector("input[name=kind][value=consultation]");
            var current = form.querySelector("input[name=kind]:checked");
            if (current && current.value !== "suggestion") { consult.checked = true; kindChanged(); }
            text.value = a.body + (a.legal_basis ? "\n（依据：" + a.legal_basis + "）" : "");
            code.value = a.code;
            var subject = form.querySelector("input[name=subject]");
            if (!subject.value) subject.value = a.title;
            text.focus();
          });
          li.appendChild(b);
          li.appendChild(el("div", a.body.slice(0, 80) + (a.body.length > 80 ? "…" : ""), "muted"));
          results.appendChild(li);
        });
      });
    }, 200);
    search.addEventListener("input", find);
    find();
  }
})();
