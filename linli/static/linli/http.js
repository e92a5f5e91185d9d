/* Linli — the one way the page scripts (cases.js, reply_check.js, map.js) talk to the server.
   Plain ES5 for old phones, no build step; the templates load it before the script that uses it.

     linliHttp.get(url, {done: fn(answer, status), fail: fn(error)})
     linliHttp.post(url, formData, {form: <form>, done: ..., fail: ...})

   `done` gets the parsed JSON of a 2xx answer. `fail` gets every other outcome in the one
   error shape of Linli's JSON answers (linli/core/web.py), {code, message, field}, plus the
   HTTP status: the server's own body where it sent that shape; {code: "network", status: 0}
   when no answer came at all; {code: "bad_answer"} for an answer that is not JSON or not that
   shape. `message` is what the server said for the user, "" when it said nothing: callers
   show their own translated text then.

   Unsafe methods carry the CSRF token in the X-CSRFToken header (Django reads it when the body
   has no csrfmiddlewaretoken): from the form's field, else any such field on the page, else the
   csrftoken cookie. The field comes first because settings.py keeps the cookie HttpOnly. */
(function () {
  "use strict";
  if (window.linliHttp) { return; }  // several includes on one page may each bring the script

  var SAFE = { GET: true, HEAD: true, OPTIONS: true };

  function csrfToken(form) {
    var field = form ? form.querySelector("[name=csrfmiddlewaretoken]") : null;
    if (!field || !field.value) { field = document.querySelector("[name=csrfmiddlewaretoken]"); }
    if (field && field.value) { return field.value; }
    var match = /(?:^|;\s*)csrftoken=([^;]+)/.exec(document.cookie || "");
    return match ? decodeURIComponent(match[1]) : "";
  }

  function failure(status, answer) {
    if (answer && typeof answer === "object" && typeof answer.code === "string") {
      return { code: answer.code, message: answer.message ? String(answer.message) : "",
               field: answer.field || null, status: status };
    }
    return { code: status ? "bad_answer" : "network", message: "", field: null, status: status };
  }

  function send(method, url, data, options) {
    options = options || {};
    var done = options.done || function () {};
    var fail = options.fail || function () {};
    var settled = false;
    function finish(ok, value, status) {
      if (settled) { return; }  // onerror and ontimeout may both fire on some old WebViews
      settled = true;
      if (ok) { done(value, status); } else { fail(value); }
    }
    var request = new XMLHttpRequest();
    request.open(method, url, true);
    request.setRequestHeader("Accept", "application/json");
    request.setRequestHeader("X-Requested-With", "XMLHttpRequest");
    if (!SAFE[method]) {
      var token = csrfToken(options.form);
      if (token) { request.setRequestHeader("X-CSRFToken", token); }
    }
    request.onload = function () {
      var answer = null;
      try { answer = JSON.parse(request.responseText); } catch (e) { answer = null; }
      if (request.status >= 200 && request.status < 300 && answer !== null) {
        finish(true, answer, request.status);
      } else {
        finish(false, failure(request.status, answer));
      }
    };
    request.onerror = request.ontimeout = request.onabort = function () { finish(false, failure(0, null)); };
    request.send(data === undefined ? null : data);
  }

  window.linliHttp = {
    get: function (url, options) { send("GET", url, null, options); },
    post: function (url, data, options) { send("POST", url, data, options); },
    csrfToken: csrfToken
  };
})();
