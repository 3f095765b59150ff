// Small progressive enhancements for the console; every page works without them.
(function () {
  "use strict";
  function csrf() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  // Line numbers beside a textarea, so "line 12" in an error is easy to find.
  function gutter(editor) {
    var area = editor.querySelector("textarea"), side = editor.querySelector(".gutter");
    function draw() {
      var n = area.value.split("\n").length, out = [];
      for (var i = 1; i <= n; i++) out.push(i);
      side.textContent = out.join("\n");
      side.scrollTop = area.scrollTop;
    }
    area.addEventListener("input", draw);
    area.addEventListener("scroll", function () { side.scrollTop = area.scrollTop; });
    draw();
  }

  // Validate as you type: POST the text to data-validate-url, show the errors it returns.
  function liveValidate(area) {
    var url = area.dataset.validateUrl, box = document.getElementById(area.dataset.target);
    var timer = null, seq = 0;
    function run() {
      var mine = ++seq, body = new URLSearchParams();
      body.set("yaml", area.value);
      fetch(url, {method: "POST", body: body, credentials: "same-origin",
                  headers: {"X-CSRF-Token": csrf()}})
        .then(function (r) { return r.json(); })
        .then(function (data) {
          if (mine !== seq) return;
          var warnings = data.warnings || [];
          box.hidden = false;
          box.className = "validation " + (!data.ok ? "bad" : warnings.length ? "warn" : "ok");
          box.innerHTML = "";
          if (data.ok && !warnings.length) { box.textContent = "Valid mapping."; return; }
          if (data.ok) box.textContent = "Valid mapping, but (you can still save):";
          var ul = document.createElement("ul");
          (data.ok ? warnings : data.errors || []).forEach(function (e) {
            var li = document.createElement("li"); li.textContent = e; ul.appendChild(li);
          });
          box.appendChild(ul);
        })
        .catch(function () {});
    }
    area.addEventListener("input", function () {
      clearTimeout(timer); timer = setTimeout(run, 400);
    });
  }

  // Forms that destroy something ask first (data-confirm holds the question).
  function confirmSubmit(form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }

  // "Add a condition": another row like the last one, empty, numbered after it.
  function addConditions(button) {
    var body = document.querySelector("table.conditions tbody");
    if (!body) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      var rows = body.querySelectorAll("tr.condition"), last = rows[rows.length - 1];
      var row = last.cloneNode(true), n = rows.length;
      row.querySelectorAll("[name]").forEach(function (el) {
        el.name = el.name.replace(/^cond-\d+-/, "cond-" + n + "-");
        var label = el.getAttribute("aria-label");
        if (label) el.setAttribute("aria-label", label.replace(/\d+$/, String(n + 1)));
        if (el.tagName === "INPUT") el.value = "";
      });
      body.appendChild(row);
      row.querySelector("input").focus();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var add = document.getElementById("add-condition");
    if (add) addConditions(add);
    document.querySelectorAll("form[data-confirm]").forEach(confirmSubmit);
    document.querySelectorAll(".editor").forEach(gutter);
    document.querySelectorAll("textarea[data-validate-url]").forEach(liveValidate);
  });
})();
