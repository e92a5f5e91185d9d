// The voucher form: add a line, and show the running totals. Without this script the form
// still works with its fixed number of blank lines.
(function () {
  "use strict";
  var form = document.querySelector("form[data-voucher]");
  if (!form) return;
  var body = form.querySelector("tbody[data-lines]");
  var total = form.querySelector("input[name='lines-TOTAL_FORMS']");
  var out = form.querySelector("[data-totals]");
  var max = parseInt(form.getAttribute("data-max") || "50", 10);

  function fen(text) {
    var t = (text || "").replace(/[,\s¥]/g, "");
    if (!/^-?\d+(\.\d{1,2})?$/.test(t)) return 0;
    var parts = t.replace("-", "").split(".");
    var v = parseInt(parts[0], 10) * 100 + (parts[1] ? parseInt((parts[1] + "0").slice(0, 2), 10) : 0);
    return t.charAt(0) === "-" ? -v : v;
  }
  function yuan(v) {
    var s = v < 0 ? "-" : "", a = Math.abs(v), w = Math.floor(a / 100), c = a % 100;
    return s + "¥" + w.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",") + "." + (c < 10 ? "0" : "") + c;
  }
  function update() {
    var d = 0, c = 0;
    body.querySelectorAll("input[name$='-debit']").forEach(function (i) { d += fen(i.value); });
    body.querySelectorAll("input[name$='-credit']").forEach(function (i) { c += fen(i.value); });
    out.querySelector("[data-debit]").textContent = yuan(d);
    out.querySelector("[data-credit]").textContent = yuan(c);
    var diff = out.querySelector("[data-diff]");
    diff.textContent = d === c ? "" : yuan(d - c);
    diff.className = d === c ? "" : "off";
  }
  form.addEventListener("input", update);
  var add = form.querySelector("button[data-add-line]");
  if (add) {
    add.hidden = false;
    add.addEventListener("click", function () {
      var n = parseInt(total.value, 10);
      if (n >= max) return;
      var row = body.querySelector("tr:last-child").cloneNode(true);
      row.querySelectorAll("input, select, label").forEach(function (el) {
        ["name", "id", "for"].forEach(function (attr) {
          var v = el.getAttribute(attr);
          if (v) el.setAttribute(attr, v.replace(/lines-\d+-/, "lines-" + n + "-"));
        });
        if (el.tagName === "LABEL") el.textContent = el.textContent.replace(/\d+\s*$/, String(n + 1));
        if (el.tagName === "INPUT") el.value = "";
        if (el.tagName === "SELECT") el.selectedIndex = 0;
      });
      var num = row.querySelector("[data-n]");
      if (num) num.textContent = String(n + 1);
      body.appendChild(row);
      total.value = String(n + 1);
    });
  }
  update();
})();
