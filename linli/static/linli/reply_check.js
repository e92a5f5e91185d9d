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
    var token = form ? form.querySelector("[name=csrfmiddlewaretoken]") : null;
    if (!form || !button || !result || !draft || !token || !window.FormData) { return; }
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
      data.append("csrfmiddlewaretoken", token.value);
      var request = new XMLHttpRequest();
      request.open("POST", box.getAttribute("data-url"), true);
      request.setRequestHeader("X-Requested-With", "XMLHttpRequest");
      button.disabled = true;
      say(box.getAttribute("data-busy"));
      request.onload = function () {
        button.disabled = false;
        var answer = null;
        try { answer = JSON.parse(request.responseText); } catch (e) { answer = null; }
        if (request.status === 200 && answer && answer.scores) {
          show(answer);
        } else {
          say(answer && answer.message ? answer.message : box.getAttribute("data-failed"));
        }
      };
      request.onerror = function () {
        button.disabled = false;
        say(box.getAttribute("data-failed"));
      };
      request.send(data);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var boxes = document.querySelectorAll(".reply-check");
    for (var i = 0; i < boxes.length; i++) { setUp(boxes[i]); }
  });
})();
