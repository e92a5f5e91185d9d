/* Linli — "Check my reply" on the resolve form of a staff case page. Plain ES5-level script;
   without it the form works as before (the button stays hidden). The server scores the draft
   (POST /insight/reply-check) and sends the hints already translated; the labels come from the
   data-* attributes of .reply-check, rendered with {% translate %}. */
(function () {
  "use strict";

  function percent(value) {
    return value === null || value === undefined ? "—" : Math.round(value * 100) + "%";
  }

  function setUp(box) {
    var form = box.closest ? box.closest("form") : null;
    var button = box.querySelector(".reply-check-button");
    var result = box.querySelector(".reply-check-result");
    var draft = form ? form.querySelector("textarea[name$='resolution']") : null;
    var http = window.linliHttp;  // http.js, loaded before this file
    if (!form || !button || !result || !draft || !http || !http.csrfToken(form) || !window.FormData) { return; }
    button.hidden = false;

    function say(text) {
      result.textContent = "";
      var p = document.createElement("p");
      p.textContent = text;
      result.appendChild(p);
      result.hidden = false;
    }

    function show(answer) {
      result.textContent = "";
      var list = document.createElement("dl");
      var names = ["relevance", "completeness", "timeliness", "overall"];
      for (var i = 0; i < names.length; i++) {
        var value = answer.scores[names[i]];
        if (value === null || value === undefined) { continue; }
        var dt = document.createElement("dt");
        dt.textContent = box.getAttribute("data-" + names[i]);
        var dd = document.createElement("dd");
        dd.textContent = percent(value);
        list.appendChild(dt);
        list.appendChild(dd);
      }
      result.appendChild(list);
      var heading = document.createElement("p");
      if (!answer.missing.length) {
        heading.textContent = box.getAttribute("data-nothing");
        result.appendChild(heading);
      } else {
        heading.textContent = box.getAttribute("data-missing");
        result.appendChild(heading);
        var hints = document.createElement("ul");
        for (var j = 0; j < answer.missing.length; j++) {
          var li = document.createElement("li");
          li.textContent = answer.missing[j];
          hints.appendChild(li);
        }
        result.appendChild(hints);
      }
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
