// The resident's counter code turns over every 30 seconds: reload the page just after it does.
// Without this script the page says so and offers a link that does the same.
(function () {
  "use strict";
  var box = document.querySelector("[data-refresh-seconds]");
  if (!box) return;
  var seconds = parseInt(box.getAttribute("data-refresh-seconds"), 10);
  if (!(seconds > 0)) seconds = 30;
  window.setTimeout(function () { window.location.reload(); }, (seconds + 1) * 1000);
})();
