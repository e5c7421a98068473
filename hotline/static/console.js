// The intake console: caller history as the phone is typed, answer-bank search, one keyboard category
// picker, every missing field marked at once, keyboard shortcuts, and where a registered case went.
// Everything is rendered with textContent, never innerHTML: case data is user input.
(function () {
  "use strict";
  var form = document.getElementById("intake");
  if (!form) return;
  var messages = JSON.parse(form.dataset.messages || "{}");

  function debounce(fn, ms) {
    var timer;
    return function () { var args = arguments; clearTimeout(timer); timer = setTimeout(function () { fn.apply(null, args); }, ms); };
  }
  function el(tag, text, cls) { var e = document.createElement(tag); if (text) e.textContent = text; if (cls) e.className = cls; return e; }
  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; });
  }
  function visible(e) { return !!(e.offsetWidth || e.offsetHeight || e.getClientRects().length); }
  function value(name) { var f = form.elements[name]; return f ? (f.value || "").trim() : ""; }
  function currentKind() { var c = form.querySelector("input[name=kind]:checked"); return c ? c.value : "complaint"; }

  // Show only the parts that matter for the chosen kind.
  function kindChanged() {
    var kind = currentKind();
    form.dataset.kind = kind;
    var linked = form.elements.also_report;
    if (linked && kind !== "complaint") linked.checked = false;  // hidden then, and only a complaint carries one
  }
  form.querySelectorAll("input[name=kind]").forEach(function (r) { r.addEventListener("change", kindChanged); });
  kindChanged();

  // ---- The category picker: one combobox over goods, service and issue (ARIA 1.2 combobox pattern).
  var picker = document.getElementById("category-picker");
  var pickerInput = null;
  var renderChosen = function () {};
  if (picker) {
    var selectsBox = document.getElementById("category-selects");
    var listbox = document.getElementById("category-listbox");
    var chosen = document.getElementById("category-chosen");
    var axes = JSON.parse(picker.dataset.axes || "{}");
    var axisOrder = ["goods", "service", "issue"];
    var items = [];
    pickerInput = document.getElementById("category-search");
    axisOrder.forEach(function (axis) {
      var select = form.elements["category." + axis];
      Array.prototype.forEach.call(select.options, function (o) {
        if (!o.value) return;
        items.push({ axis: axis, code: o.value, name: o.dataset.name || o.textContent, path: o.dataset.path || o.textContent,
                     pinyin: o.dataset.pinyin || "", order: items.length });
      });
    });
    picker.hidden = false;
    selectsBox.hidden = true;  // still posted: the picker sets the selects' values
    var shown = [];
    var active = -1;

    var score = function (item, q) {
      var code = item.code.toLowerCase(), name = item.name.toLowerCase();
      if (code === q || name === q) return 0;
      if (item.pinyin === q || code.indexOf(q) === 0) return 1;
      if (item.pinyin.indexOf(q) === 0 || name.indexOf(q) === 0) return 2;
      if (name.indexOf(q) >= 0) return 3;
      if (item.pinyin.indexOf(q) >= 0 || code.indexOf(q) >= 0) return 4;
      if (item.path.toLowerCase().indexOf(q) >= 0) return 5;  // the parent's name: 食品 finds 乳制品 too
      return -1;
    };
    var matches = function (q) {
      q = q.replace(/\s+/g, "").toLowerCase();
      if (!q) return items.slice();
      return items.map(function (item) { return { item: item, s: score(item, q) }; })
        .filter(function (m) { return m.s >= 0; })
        .sort(function (a, b) { return a.s - b.s || a.item.order - b.item.order; })
        .slice(0, 30).map(function (m) { return m.item; });
    };
    var setActive = function (i) {
      var options = listbox.querySelectorAll("[role=option]");
      if (active >= 0 && options[active]) options[active].setAttribute("aria-selected", "false");
      active = i;
      if (i >= 0 && options[i]) {
        options[i].setAttribute("aria-selected", "true");
        pickerInput.setAttribute("aria-activedescendant", options[i].id);
        options[i].scrollIntoView({ block: "nearest" });
      } else {
        pickerInput.removeAttribute("aria-activedescendant");
      }
    };
    var close = function () {
      listbox.hidden = true;
      pickerInput.setAttribute("aria-expanded", "false");
      pickerInput.removeAttribute("aria-activedescendant");
      active = -1;
    };
    var open = function () {
      shown = matches(pickerInput.value);
      listbox.textContent = "";
      active = -1;
      pickerInput.removeAttribute("aria-activedescendant");
      if (!shown.length) {
        var none = el("li", picker.dataset.none, "muted none");
        none.setAttribute("role", "option");  // a listbox holds options only (axe: aria-required-children)
        none.setAttribute("aria-disabled", "true");
        listbox.appendChild(none);
      }
      shown.forEach(function (item, i) {
        var li = el("li", null, "option");
        li.id = "category-option-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        li.appendChild(el("span", item.name, "name"));
        var parent = item.path.indexOf(" › ") > 0 ? item.path.split(" › ")[0] + " · " : "";
        li.appendChild(el("span", " " + axes[item.axis] + " · " + parent + item.code, "muted"));
        li.addEventListener("mousedown", function (ev) { ev.preventDefault(); });  // keep the focus in the input
        li.addEventListener("click", function () { pick(item); });
        listbox.appendChild(li);
      });
      listbox.hidden = false;
      pickerInput.setAttribute("aria-expanded", "true");
    };
    var pick = function (item) {
      var select = form.elements["category." + item.axis];
      select.value = item.code;
      select.dispatchEvent(new Event("change", { bubbles: true }));
      delete pickerErrors[item.axis];
      pickerInput.value = "";
      close();
      renderChosen();
      pickerInput.focus();
    };
    // Errors the server gave a category are shown in the picker, since the selects are hidden.
    var pickerErrors = {};
    axisOrder.forEach(function (axis) {
      var error = selectsBox.querySelector(".error[data-field='category." + axis + "']");
      if (error) pickerErrors[axis] = error.textContent;
    });
    renderChosen = function () {
      chosen.textContent = "";
      axisOrder.forEach(function (axis) {
        var select = form.elements["category." + axis];
        var option = select.selectedOptions[0];
        if ((!option || !option.value) && !pickerErrors[axis]) return;
        var li = el("li");
        li.appendChild(el("span", axes[axis] + ": ", "muted"));
        if (option && option.value) {
          li.appendChild(el("span", option.dataset.path || option.textContent));
          li.appendChild(el("span", " " + option.value, "muted"));
          var remove = el("button", "×", "link remove");
          remove.type = "button";
          remove.setAttribute("aria-label", picker.dataset.remove + " " + axes[axis] + " " + (option.dataset.name || ""));
          remove.addEventListener("click", function () {
            select.value = ""; delete pickerErrors[axis]; renderChosen(); pickerInput.focus();
          });
          li.appendChild(remove);
        }
        if (pickerErrors[axis]) {
          var span = el("span", pickerErrors[axis], "error");
          span.dataset.field = "category." + axis;
          li.appendChild(span);
        }
        chosen.appendChild(li);
      });
      if (Object.keys(pickerErrors).length) pickerInput.setAttribute("aria-invalid", "true");
      else pickerInput.removeAttribute("aria-invalid");
    };
    renderChosen();

    pickerInput.addEventListener("input", function () { if (pickerInput.value.trim()) open(); else close(); });
    pickerInput.addEventListener("blur", close);
    pickerInput.addEventListener("keydown", function (ev) {
      if (ev.isComposing || ev.keyCode === 229) return;  // the IME is choosing characters
      var isOpen = !listbox.hidden;
      if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
        ev.preventDefault();
        if (!isOpen) { open(); }
        if (!shown.length) return;
        if (ev.key === "ArrowDown") setActive(active < shown.length - 1 ? active + 1 : 0);
        else setActive(active > 0 ? active - 1 : shown.length - 1);
      } else if (ev.key === "Enter" && !ev.ctrlKey && !ev.metaKey && isOpen && shown.length) {
        ev.preventDefault();
        ev.stopPropagation();
        pick(shown[active >= 0 ? active : 0]);
      } else if (ev.key === "Escape") {
        if (isOpen) { ev.preventDefault(); close(); } else if (pickerInput.value) { ev.preventDefault(); pickerInput.value = ""; }
      }
    });
    form.addEventListener("reset", function () { setTimeout(function () { close(); renderChosen(); }, 0); });
  }

  // ---- Errors: every wrong field marked at once, the first one focused.
  var summary = document.getElementById("form-errors");
  function fieldFor(name) {
    if (name.indexOf("category.") === 0 && pickerInput) return pickerInput;
    var f = form.elements[name];
    if (f && f.length !== undefined && !f.tagName) f = f[0];  // a radio group
    return f || null;
  }
  function focusField(name) {
    var f = fieldFor(name);
    if (f && visible(f)) { f.focus(); if (f.select && f.type !== "checkbox" && f.type !== "radio") f.select(); }
  }
  function clearError(name) {
    var f = fieldFor(name);
    form.querySelectorAll(".error[data-field='" + name + "']").forEach(function (e) { e.remove(); });
    if (f) {
      f.removeAttribute("aria-invalid");
      f.removeAttribute("aria-describedby");
      var label = f.closest("label");
      if (label) label.classList.remove("invalid");
    }
  }
  function clearAll() {
    form.querySelectorAll(".error[data-field]").forEach(function (e) { clearError(e.dataset.field); });
    form.querySelectorAll("[aria-invalid]").forEach(function (f) { f.removeAttribute("aria-invalid"); });
    form.querySelectorAll("label.invalid").forEach(function (l) { l.classList.remove("invalid"); });
  }
  function showErrors(errors) {  // [[name, message], ...] in form order
    clearAll();
    var list = summary.querySelector("ul");
    list.textContent = "";
    errors.forEach(function (pair) {
      var f = fieldFor(pair[0]);
      var label = f && f.closest("label");
      var span = el("span", pair[1], "error");
      span.dataset.field = pair[0];
      span.id = "err-" + (f && f.id ? f.id : pair[0].replace(/\./g, "-"));
      if (label) { label.classList.add("invalid"); label.appendChild(span); }
      if (f) { f.setAttribute("aria-invalid", "true"); f.setAttribute("aria-describedby", span.id); }
      var li = el("li");
      var a = el("a", label ? label.firstChild.textContent.trim() : pair[0]);
      a.href = "#" + (f ? f.id : "");
      a.dataset.field = pair[0];
      li.appendChild(a);
      li.appendChild(document.createTextNode(": " + pair[1]));
      list.appendChild(li);
    });
    summary.hidden = false;
    focusField(errors[0][0]);
  }
  function missingFields() {
    var kind = currentKind(), errors = [];
    if (kind === "complaint") {
      if (!value("consumer.phone")) errors.push(["consumer.phone", messages.phone]);
      if (!value("consumer.name") && !form.elements["consumer.anonymous"].checked) errors.push(["consumer.name", messages.name]);
    }
    if ((kind === "complaint" || kind === "report") && !value("business.name") && !value("business.platform")) {
      errors.push(["business.name", messages.business]);
    }
    if (!value("subject")) errors.push(["subject", messages.required]);
    return errors;
  }
  form.addEventListener("submit", function (ev) {
    var errors = missingFields();
    if (errors.length) { ev.preventDefault(); showErrors(errors); }
  });
  if (summary) {
    summary.addEventListener("click", function (ev) {
      var a = ev.target.closest("a[data-field]");
      if (a) { ev.preventDefault(); focusField(a.dataset.field); }
    });
    var firstError = summary.hidden ? null : summary.querySelector("a[data-field]");
    if (firstError) focusField(firstError.dataset.field);  // after the server's 422
  }

  // ---- Keys: Enter in a one-line field goes to the next field (it never submits a half-filled form);
  // Ctrl+Enter registers from anywhere; Enter in a textarea is a new line.
  function nextField(from) {
    var fields = Array.prototype.filter.call(form.querySelectorAll("input, select, textarea, button"), function (f) {
      return f.type !== "hidden" && !f.disabled && visible(f) && (f.type !== "radio" || f.checked || f === from);
    });
    var i = fields.indexOf(from);
    return fields[i + 1] || null;
  }
  form.addEventListener("keydown", function (ev) {
    if (ev.key !== "Enter" || ev.isComposing || ev.keyCode === 229) return;
    if (ev.ctrlKey || ev.metaKey) { ev.preventDefault(); form.requestSubmit(); return; }
    var t = ev.target;
    if (t.tagName === "INPUT" && !/^(submit|button|reset|image)$/.test(t.type)) {
      ev.preventDefault();
      var next = nextField(t);
      if (next && next.type !== "submit") next.focus();
    }
  });

  // ---- 重复举报 (Order 121 art. 35): a report naming a business this caller reported before shows the
  // earlier report's number before it is registered (the server says it again once registered).
  var callerCases = [];
  var repeatNotice = document.getElementById("repeat-notice");
  function squash(s) { return (s || "").replace(/[\s\p{P}\p{S}]+/gu, "").toLowerCase(); }
  function checkRepeat() {
    if (!repeatNotice) return;
    var business = squash(value("business.name"));
    var hit = null;
    if (currentKind() === "report" && business) {
      hit = callerCases.filter(function (c) { return c.kind === "report" && squash(c.business.name) === business; })[0];
    }
    repeatNotice.hidden = !hit;
    if (hit) {
      var labels = panel ? JSON.parse(panel.dataset.labels || "{}") : {};
      repeatNotice.textContent = repeatNotice.dataset.text.replace("BUSINESS", hit.business.name)
        .replace("NUMBER", hit.number.replace(/^(\d{4})(\d{4})(\d{4})(\d{2}|\d{4})$/, "$1 $2 $3 $4"))
        .replace("STATUS", labels[hit.status] || hit.status);
    }
  }
  if (repeatNotice && form.elements["business.name"]) {
    form.elements["business.name"].addEventListener("input", debounce(checkRepeat, 200));
    form.querySelectorAll("input[name=kind]").forEach(function (r) { r.addEventListener("change", checkRepeat); });
  }

  // ---- 共同投诉 (art. 12): "Add a complainant" adds a row in place instead of posting the form back.
  var addComplainant = document.getElementById("add-complainant");
  var rowsBox = document.getElementById("f-complainants");
  function renumber(row, i) {
    row.dataset.index = i;
    var legend = row.querySelector("legend");
    if (legend) legend.textContent = addComplainant.dataset.legend.replace("N", String(i + 2));
    row.querySelectorAll("[name], [id], label[for]").forEach(function (e) {
      if (e.name) e.name = e.name.replace(/^complainants\.\d+\./, "complainants." + i + ".");
      if (e.id) e.id = e.id.replace(/^f-complainants-\d+-/, "f-complainants-" + i + "-");
      if (e.htmlFor) e.htmlFor = e.htmlFor.replace(/^f-complainants-\d+-/, "f-complainants-" + i + "-");
    });
  }
  function addRemoveButton(row) {
    if (row.querySelector("button.remove-complainant")) return;
    var remove = el("button", addComplainant.dataset.remove, "link remove-complainant");
    remove.type = "button";
    remove.addEventListener("click", function () {
      var rows = rowsBox.querySelectorAll("fieldset.complainant");
      if (rows.length > 1) row.remove();
      else row.querySelectorAll("input").forEach(function (f) { if (f.type === "checkbox") f.checked = false; else f.value = ""; });
      rowsBox.querySelectorAll("fieldset.complainant").forEach(function (r, i) { renumber(r, i); });
      addComplainant.focus();
    });
    row.appendChild(remove);
  }
  if (addComplainant && rowsBox) {
    addComplainant.type = "button";  // a submit only without JavaScript (the server adds the row then)
    rowsBox.querySelectorAll("fieldset.complainant").forEach(addRemoveButton);
    addComplainant.addEventListener("click", function (ev) {
      ev.preventDefault();
      var rows = rowsBox.querySelectorAll("fieldset.complainant");
      var last = rows[rows.length - 1];
      var row = last.cloneNode(true);
      row.querySelectorAll(".error").forEach(function (e) { e.remove(); });
      row.querySelectorAll("label.invalid").forEach(function (l) { l.classList.remove("invalid"); });
      row.querySelectorAll("input").forEach(function (f) {
        if (f.type === "checkbox") f.checked = false; else f.value = "";
        f.removeAttribute("aria-invalid"); f.removeAttribute("aria-describedby"); f.removeAttribute("autofocus");
      });
      var old = row.querySelector("button.remove-complainant");
      if (old) old.remove();
      renumber(row, rows.length);
      rowsBox.appendChild(row);
      addRemoveButton(row);
      var first = row.querySelector("input");
      if (first) first.focus();
    });
  }

  // ---- The caller's earlier cases, as soon as the phone number is complete enough.
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
        callerCases = data.items;
        checkRepeat();
        data.items.forEach(function (c) {
          var li = el("li");
          // Grouped 4-4-4-2 for reading aloud, as on every page; the link keeps the digits.
          var a = el("a", c.number.replace(/^(\d{4})(\d{4})(\d{4})(\d{2}|\d{4})$/, "$1 $2 $3 $4"), "number");
          a.href = panel.dataset.caseUrl.replace("NUMBER", c.number);
          li.appendChild(a);
          // The server gives the local date (HOTLINE_TIMEZONE); cutting the UTC time would show yesterday before 08:00.
          var when = el("time", " " + (c.received_on || ""));
          when.dateTime = c.received_at || "";
          if (c.received_local) when.title = c.received_local;
          li.appendChild(when);
          li.appendChild(document.createTextNode(" · " + (labels[c.status] || c.status)));
          li.appendChild(el("br"));
          li.appendChild(el("span", c.subject + (c.business.name ? " — " + c.business.name : ""), "muted"));
          list.appendChild(li);
        });
      });
    }, 250);
    phone.addEventListener("input", lookup);
    if (phone.value) lookup();
  }

  // ---- Answer bank: search, then pick an answer to fill it in.
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
          if (a.basis_warning) li.appendChild(el("div", "⚠ " + a.basis_warning, "warning basis-unverified"));
          li.appendChild(el("div", a.body.slice(0, 80) + (a.body.length > 80 ? "…" : ""), "muted"));
          results.appendChild(li);
        });
      });
    }, 200);
    search.addEventListener("input", find);
    find();
  }

  // ---- After registering: where the case went and its first deadline, once routing has run
  // (in-process right after the commit on the embedded default; a worker otherwise). A few seconds at most.
  var registered = document.getElementById("registered");
  if (registered && registered.dataset.next) {
    var where = document.getElementById("next-where");
    var reason = document.getElementById("next-reason");
    var deadline = document.getElementById("next-deadline");
    var tries = 0;
    var poll = function () {
      getJSON(registered.dataset.next).then(function (data) {
        if (data) {
          where.textContent = data.text;
          reason.textContent = data.reason || "";
          if (data.deadline) deadline.textContent = data.deadline;
          if (data.done) return;
        }
        if (++tries >= 12) { where.textContent = registered.dataset.slow; return; }
        setTimeout(poll, 500);
      }).catch(function () { where.textContent = registered.dataset.slow; });
    };
    setTimeout(poll, 300);
  }
})();
