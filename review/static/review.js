// Keyboard shortcuts and selection for the review app. Loaded as a file (the CSP forbids inline script).
(function () {
  "use strict";

  function typing(event) {
    var t = event.target;
    return t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
  }

  function decisionButton(root, key) {
    return root.querySelector('button.decision[data-key="' + key + '"]');
  }

  // ---- queue ----
  function setupQueue(table) {
    var rows = Array.prototype.slice.call(table.querySelectorAll("tbody tr[data-href]"));
    var form = document.getElementById("bulk");
    var counter = document.getElementById("selected-count");
    var all = document.getElementById("select-all");
    var current = rows.length ? 0 : -1;

    function boxes() { return rows.map(function (r) { return r.querySelector('input[type="checkbox"]'); }); }
    function count() {
      var n = boxes().filter(function (b) { return b.checked; }).length;
      if (counter) counter.textContent = String(n);
      rows.forEach(function (r, i) { r.classList.toggle("selected", boxes()[i].checked); });
      return n;
    }
    function focusRow(i) {
      if (!rows.length) return;
      current = Math.max(0, Math.min(rows.length - 1, i));
      rows.forEach(function (r, j) { r.classList.toggle("cursor", j === current); });
      rows[current].scrollIntoView({ block: "nearest" });
    }
    table.addEventListener("change", count);
    if (all) all.addEventListener("change", function () {
      boxes().forEach(function (b) { b.checked = all.checked; });
      count();
    });
    rows.forEach(function (r, i) {
      r.addEventListener("click", function (e) { if (e.target.tagName !== "INPUT" && e.target.tagName !== "A") focusRow(i); });
    });
    focusRow(0);
    document.addEventListener("keydown", function (e) {
      if (typing(e) || e.ctrlKey || e.metaKey || e.altKey) return;
      if (e.key === "j") { focusRow(current + 1); e.preventDefault(); }
      else if (e.key === "k") { focusRow(current - 1); e.preventDefault(); }
      else if ((e.key === "o" || e.key === "Enter") && current >= 0) { window.location = rows[current].dataset.href; }
      else if ((e.key === "x" || e.key === " ") && current >= 0) {
        var b = boxes()[current]; b.checked = !b.checked; count(); e.preventDefault();
      } else {
        var button = form && decisionButton(form, e.key);
        if (button) {
          if (!count() && current >= 0) { boxes()[current].checked = true; count(); }
          button.click();
          e.preventDefault();
        }
      }
    });
  }

  // ---- listing ----
  function setupListing(form) {
    var note = document.getElementById("note");
    document.addEventListener("keydown", function (e) {
      if (e.key === "Escape" && note && document.activeElement === note) { note.blur(); return; }
      if (typing(e) || e.ctrlKey || e.metaKey || e.altKey) return;
      if (e.key === "n" && note) { note.focus(); e.preventDefault(); return; }
      var button = decisionButton(form, e.key);
      if (button) { button.click(); e.preventDefault(); return; }
      var link = document.querySelector('a[data-key="' + e.key + '"]');
      if (link) { window.location = link.href; e.preventDefault(); }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var help = document.getElementById("help");
    document.addEventListener("keydown", function (e) {
      if (typing(e)) return;
      if (e.key === "?" && help) { help.hidden = !help.hidden; e.preventDefault(); }
      else if (e.key === "Escape" && help) { help.hidden = true; }
      else if (e.key === "u" && !document.getElementById("decision-form")) {
        var q = document.querySelector("header .brand"); if (q && !document.getElementById("queue")) window.location = q.href;
      }
    });
    var table = document.getElementById("queue");
    if (table) setupQueue(table);
    var form = document.getElementById("decision-form");
    if (form) setupListing(form);
    // score bars: width from data-score (no inline styles under the CSP)
    Array.prototype.forEach.call(document.querySelectorAll(".bar[data-score]"), function (el) {
      el.style.setProperty("--score", el.dataset.score);
    });
    // The shortcuts listen from here on: a key pressed before this point is lost (the script is deferred),
    // so scripted clients (the browser tests) wait for this mark before they press keys.
    document.documentElement.dataset.keys = "ready";
  });
})();
