/* The organiser's QR page (volunteers/qr.html): the code changes every 30 s, so fetch the next
   one when the current one is replaced, with the count of who is in. Without this script the
   page's "Show the next code" link does the same by reloading. Plain ES5, through linliHttp. */
(function () {
  "use strict";
  var box = document.getElementById("qr-box");
  if (!box || !window.linliHttp) { return; }
  var url = box.getAttribute("data-state-url");
  var count = document.getElementById("qr-count");
  var status = document.getElementById("qr-status");

  function schedule(seconds) {
    window.setTimeout(refresh, Math.max(1, seconds) * 1000 + 300);
  }

  function refresh() {
    window.linliHttp.get(url, {
      done: function (answer) {
        box.innerHTML = answer.svg;
        if (count) { count.textContent = String(answer.checked_in); }
        if (status) { status.textContent = ""; }
        schedule(answer.seconds);
      },
      fail: function () {
        if (status) { status.textContent = status.getAttribute("data-offline"); }
        schedule(5);
      }
    });
  }

  schedule(parseInt(box.getAttribute("data-seconds"), 10) || 30);
}());
