/* Linli — "Check my reply" on the resolve form of a staff case page. Plain ES5-level script;
   without it the form works as before (the button stays hidden). The server scores the draft
   (POST /insight/reply-check) and sends the hints already translated; the labels come from the
   data-* attributes of .reply-check, rendered with {% translate %}. */
(function () {
  "use strict";

  // A score in words, not a percentage: staff read "partly", not "0.57".
  function level(value) {
    if (value >= 0.75) { return "good"; }
    if (value >= 0.5) { return "partly"; }
    return "weak";
  }

  function setUp(box) {
    var form = box.closest ? box.closest("form") : null;
    var button = box.querySelector(".reply-check-button");
    var result = box.querySelector(".reply-check-result");
    var draft = form ? form.querySelector("textarea[name$='resolution']") : null;
    var http = window.linliHttp;  // http.js, loaded before this file
    if (!form || !button || !result || !draft || !http || !http.csrfToken(form) || !window.FormData) { return; }
    button.hidden = false;

    // The hints sit beside the draft (below it on a phone): the draft and the result panel
    // share one row, so the worker reads a hint and edits the sentence it is about.
    var pair = document.createElement("div");
    pair.className = "reply-check-pair";
    draft.parentNode.insertBefore(pair, draft);
    pair.appendChild(draft);
    result.className += " reply-check-aside";
    pair.appendChild(result);

    function say(text) {
      result.textContent = "";
      var p = document.createElement("p");
      p.textContent = text;
      result.appendChild(p);
      result.hidden = false;
    }

    function show(answer) {
      result.textContent = "";
      var title = document.createElement("p");
      title.className = "reply-check-title";
      title.textContent = box.getAttribute("data-hints");
      result.appendChild(title);
      if (!answer.missing.length) {
        var fine = document.createElement("p");
        fine.className = "reply-check-none";
        fine.textContent = box.getAttribute("data-nothing");
        result.appendChild(fine);
      } else {
        var lead = document.createElement("p");
        lead.textContent = box.getAttribute("data-missing");
        result.appendChild(lead);
        var hints = document.createElement("ul");
        hints.className = "reply-check-hints";
        for (var j = 0; j < answer.missing.length; j++) {
          var li = document.createElement("li");
          li.className = "reply-check-hint";
          li.textContent = answer.missing[j];
          hints.appendChild(li);
        }
        result.appendChild(hints);
      }
      var list = document.createElement("dl");
      list.className = "reply-check-scores";
      var names = ["relevance", "completeness", "timeliness", "overall"];
      for (var i = 0; i < names.length; i++) {
        var value = answer.scores[names[i]];
        if (value === null || value === undefined) { continue; }
        var row = document.createElement("div");
        row.className = "reply-check-score reply-check-" + level(value);
        var dt = document.createElement("dt");
        dt.textContent = box.getAttribute("data-" + names[i]);
        var dd = document.createElement("dd");
        dd.textContent = box.getAttribute("data-" + level(value));
        row.appendChild(dt);
        row.appendChild(dd);
        list.appendChild(row);
      }
      result.appendChild(list);
      result.hidden = false;
    }

    button.addEventListener("click", function () {
      var data = new FormData();
      data.append("case", box.getAttribute("data-case"));
      data.append("draft", draft.value);
      button.disabled = true;
      say(box.getAttribute("data-busy"));
      http.post(box.getAttribute("data-url"), data, {
        form: form,
        done: function (answer) {
          button.disabled = false;
          if (answer.scores) { show(answer); } else { say(box.getAttribute("data-failed")); }
        },
        // The server's message where it gave one (no draft, too long); else the page's own words.
        fail: function (error) {
          button.disabled = false;
          say(error.message || box.getAttribute("data-failed"));
        }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var boxes = document.querySelectorAll(".reply-check");
    for (var i = 0; i < boxes.length; i++) { setUp(boxes[i]); }
  });
})();
