/* The running total of a knapsack ballot (templates/voting/ballot/ballot.html): a help only.
   The page works without it and the server checks the budget whatever this shows. */
(function () {
  "use strict";
  var form = document.querySelector("form.ballot[data-budget]");
  if (!form) { return; }
  var out = form.querySelector("[data-total]");
  if (!out) { return; }
  var budget = parseInt(form.getAttribute("data-budget"), 10) || 0;
  var boxes = form.querySelectorAll("input[data-cost]");

  function yuan(fen) {
    var whole = Math.floor(Math.abs(fen) / 100);
    var cents = Math.abs(fen) % 100;
    var text = String(whole).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return (fen < 0 ? "-" : "") + "\u00a5" + text + "." + (cents < 10 ? "0" : "") + cents;
  }

  function update() {
    var total = 0;
    for (var i = 0; i < boxes.length; i++) {
      if (boxes[i].checked) { total += parseInt(boxes[i].getAttribute("data-cost"), 10) || 0; }
    }
    var text = out.getAttribute("data-text").replace("{total}", yuan(total)).replace("{budget}", yuan(budget));
    if (total > budget) {
      text += " " + out.getAttribute("data-over").replace("{over}", yuan(total - budget));
      out.className = "running over";
    } else {
      out.className = "running";
    }
    out.textContent = text;
  }

  form.addEventListener("change", update);
  out.hidden = false;
  update();
})();
