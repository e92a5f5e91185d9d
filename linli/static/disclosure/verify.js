/* Linli — "verified", computed in the resident's own browser, for a disclosure entry.

   The entry page (disclosure/_verify.html) carries

     <section class="verify" data-verify data-log="/disclosure/<code>/log" data-index="<i>"
              data-content="<url of the exact content bytes, empty once withdrawn>"
              data-key="<the log's verifier key: name+keyid+base64(0x01 ‖ public key)>"
              data-attachments='[{"url": …, "sha256": …}]'
              data-lib-ed25519="<vendored noble-ed25519>" data-lib-sha2="<vendored noble-hashes sha2.js>">
       <script type="application/json" data-verify-texts>{…translated sentences…}</script>
       <p role="status" aria-live="polite" data-verify-status>…</p>
     </section>

   and this script, loaded with `defer`, checks for each such block, in this order:
     1. the checkpoint: GET log/checkpoint, the signature line of data-key's name and key id
        verifies (Ed25519) over the note text; origin, size N and root parse (C2SP tlog-checkpoint);
        N <= i means the entry is not signed yet ("pending", not a verdict);
     2. the leaf: GET log/entries?start=i&end=i+1, base64-decode, parse the JSON header;
     3. the content: GET data-content, SHA-256 of the exact bytes = the header's content_sha256;
     4. each attachment: its bytes hash to the page's sha256, which the header lists, with its size;
     5. the inclusion: GET log/proof/inclusion?index=i&size=N, the RFC 6962 root recomputed from the
        leaf hash SHA-256(0x00 ‖ leaf) by RFC 9162 §2.1.3.2 equals the checkpoint's root.
   It then says, in the page's language, "Verified: … entry i … (size N), signed by KEY" or exactly
   which check failed. The sentences come from the template (Django's .po), never from here.

   SHA-256 and Ed25519 come from WebCrypto where the browser has them; WebCrypto is missing on
   pages served over plain http (other than localhost) and older browsers lack its Ed25519, so
   then the vendored noble-hashes / noble-ed25519 modules (linli/static/vendor/, pinned by
   tools/vendor_assets.py) are loaded with import(). The requests are plain GETs of bytes, text
   and JSON: fetch(), with the error shape of linli/static/linli/http.js (which answers JSON only).

   The pure parts are exported for node (tests/test_verify_js.py) when `module` exists. */
(function (root, factory) {
  "use strict";
  var api = factory(root);
  if (typeof module === "object" && module && module.exports) {
    module.exports = api;
    return;
  }
  root.linliVerify = api;
  function start() {
    var blocks = document.querySelectorAll("[data-verify]");
    for (var i = 0; i < blocks.length; i++) { api.run(blocks[i]); }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})(typeof self !== "undefined" ? self : this, function (root) {
  "use strict";

  /* ---- failures ---- */

  // A check that did not pass. `step` names it (the key of the sentence shown): key, leaf,
  // content, attachment, checkpoint, signature, pending, proof; network and unsupported are not
  // verdicts on the record but on the connection or the browser.
  function Failure(step, detail, extra) {
    this.step = step;
    this.detail = detail || "";
    this.extra = extra || {};
  }
  Failure.prototype.toString = function () { return "Failure(" + this.step + ": " + this.detail + ")"; };

  function fail(step, detail, extra) { throw new Failure(step, detail, extra); }

  /* ---- bytes ---- */

  var B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  var B64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

  function base64Encode(bytes) {
    var out = "";
    for (var i = 0; i < bytes.length; i += 3) {
      var n = (bytes[i] << 16) | ((i + 1 < bytes.length ? bytes[i + 1] : 0) << 8) |
        (i + 2 < bytes.length ? bytes[i + 2] : 0);
      out += B64[(n >> 18) & 63] + B64[(n >> 12) & 63] +
        (i + 1 < bytes.length ? B64[(n >> 6) & 63] : "=") + (i + 2 < bytes.length ? B64[n & 63] : "=");
    }
    return out;
  }

  // Standard base64 with padding, canonical only (the unused bits of the last character zero),
  // as Linli's own verifier reads it: every character of a signature or hash matters.
  function base64Decode(text) {
    if (typeof text !== "string" || !B64_RE.test(text)) { throw new Error("not base64"); }
    var pad = text.slice(-2) === "==" ? 2 : (text.slice(-1) === "=" ? 1 : 0);
    var bytes = new Uint8Array(text.length / 4 * 3 - pad);
    var j = 0;
    for (var i = 0; i < text.length; i += 4) {
      var n = 0;
      for (var k = 0; k < 4; k++) {
        var c = text[i + k];
        n = (n << 6) | (c === "=" ? 0 : B64.indexOf(c));
      }
      if (j < bytes.length) { bytes[j++] = (n >> 16) & 255; }
      if (j < bytes.length) { bytes[j++] = (n >> 8) & 255; }
      if (j < bytes.length) { bytes[j++] = n & 255; }
    }
    if (base64Encode(bytes) !== text) { throw new Error("not canonical base64"); }
    return bytes;
  }

  function toHex(bytes) {
    var out = "";
    for (var i = 0; i < bytes.length; i++) { out += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16); }
    return out;
  }

  function fromHex(text) {
    if (typeof text !== "string" || !/^(?:[0-9a-fA-F]{2})*$/.test(text)) { throw new Error("not hex"); }
    var bytes = new Uint8Array(text.length / 2);
    for (var i = 0; i < bytes.length; i++) { bytes[i] = parseInt(text.substr(i * 2, 2), 16); }
    return bytes;
  }

  function concat(parts) {
    var length = 0;
    var i;
    for (i = 0; i < parts.length; i++) { length += parts[i].length; }
    var out = new Uint8Array(length);
    var at = 0;
    for (i = 0; i < parts.length; i++) { out.set(parts[i], at); at += parts[i].length; }
    return out;
  }

  function equal(a, b) {
    if (!a || !b || a.length !== b.length) { return false; }
    var diff = 0;
    for (var i = 0; i < a.length; i++) { diff |= a[i] ^ b[i]; }
    return diff === 0;
  }

  function utf8(text) { return new TextEncoder().encode(text); }

  // Strict UTF-8 (a byte that is not UTF-8 is an error, a leading BOM is kept and so fails later).
  function fromUtf8(bytes) { return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes); }

  /* ---- RFC 6962 / RFC 9162 ---- */

  var LEAF_PREFIX = new Uint8Array([0]);
  var NODE_PREFIX = new Uint8Array([1]);

  function leafHash(sha256, data) { return sha256(concat([LEAF_PREFIX, data])); }

  function nodeHash(sha256, left, right) { return sha256(concat([NODE_PREFIX, left, right])); }

  function isSize(n) { return typeof n === "number" && n >= 0 && n <= Number.MAX_SAFE_INTEGER && Math.floor(n) === n; }

  // RFC 9162 §2.1.3.2: the root that `proof` leads to from leaf `index` of a tree of `size`
  // leaves, or a thrown Error (index out of range, a hash that is not 32 bytes, a proof too
  // long or too short). Sizes are plain numbers (exact up to 2^53), halved with Math.floor.
  function rootFromInclusionProof(sha256, index, size, leaf, proof) {
    if (!isSize(index) || !isSize(size) || index >= size) { return Promise.reject(new Error("index out of range")); }
    if (!proof || typeof proof.length !== "number") { return Promise.reject(new Error("no proof")); }
    for (var i = 0; i < proof.length; i++) {
      if (!proof[i] || proof[i].length !== 32) { return Promise.reject(new Error("a proof hash is not 32 bytes")); }
    }
    if (!leaf || leaf.length !== 32) { return Promise.reject(new Error("the leaf hash is not 32 bytes")); }
    var fn = index;
    var sn = size - 1;
    var r = Promise.resolve(leaf);
    for (var k = 0; k < proof.length; k++) {
      if (sn === 0) { return Promise.reject(new Error("proof too long")); }
      var p = proof[k];
      if (fn % 2 === 1 || fn === sn) {
        r = r.then(nodeHash.bind(null, sha256, p));
        if (fn % 2 === 0) {
          while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
        }
      } else {
        r = r.then(function (p) { return function (h) { return nodeHash(sha256, h, p); }; }(p));
      }
      fn = Math.floor(fn / 2);
      sn = Math.floor(sn / 2);
    }
    if (sn !== 0) { return Promise.reject(new Error("proof too short")); }
    return r;
  }

  /* ---- C2SP signed notes and checkpoints ---- */

  // name+<key id hex>+base64(0x01 ‖ 32-byte Ed25519 public key), as golang.org/x/mod/sumdb/note.
  function parseVerifierKey(text) {
    // The base64 may hold "+" too: name and key id end at the first two.
    var m = typeof text === "string" ? /^([^+]*)\+([^+]*)\+(.*)$/.exec(text) : null;
    var parts = m ? [m[1], m[2], m[3]] : [];
    if (parts.length !== 3 || !parts[0] || /[\s+]/.test(parts[0]) || !/^[0-9a-f]{8}$/.test(parts[1])) {
      throw new Error("not a verifier key");
    }
    var key = base64Decode(parts[2]);
    if (key.length !== 33 || key[0] !== 1) { throw new Error("not an Ed25519 verifier key"); }
    return { name: parts[0], keyId: fromHex(parts[1]), publicKey: key.subarray(1) };
  }

  // The key id is SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key)[:4]; resolves to true when it matches.
  function keyIdMatches(sha256, key) {
    return Promise.resolve(sha256(concat([utf8(key.name + "\n"), new Uint8Array([1]), key.publicKey])))
      .then(function (digest) { return equal(digest.subarray(0, 4), key.keyId); });
  }

  // What the paper poster prints (linli.transparency.keys.fingerprint_of): five groups of four
  // hex digits of SHA-256(verifier key text), for the resident to compare by eye.
  function fingerprint(sha256, keyText) {
    return Promise.resolve(sha256(utf8(keyText))).then(function (digest) {
      return toHex(digest).slice(0, 20).replace(/(.{4})(?!$)/g, "$1 ");
    });
  }

  // A signed note: the text (ending in a newline), a blank line, then signature lines
  // "— <name> base64(key id[4] ‖ signature)". Split at the last blank line, as the Go package.
  function parseNote(note) {
    if (typeof note !== "string" || note.slice(-1) !== "\n") { throw new Error("a note ends with a newline"); }
    var split = note.lastIndexOf("\n\n");
    if (split < 0) { throw new Error("a note has a blank line before its signatures"); }
    var text = note.slice(0, split + 1);
    var lines = note.slice(split + 2, -1).split("\n");
    var signatures = [];
    for (var i = 0; i < lines.length; i++) {
      var m = /^\u2014 ([^\s+]+) ([A-Za-z0-9+/=]+)$/.exec(lines[i]);
      if (!m) { throw new Error("a malformed signature line"); }
      var raw = base64Decode(m[2]);
      if (raw.length < 5) { throw new Error("a signature line too short"); }
      signatures.push({ name: m[1], keyId: raw.subarray(0, 4), signature: raw.subarray(4) });
    }
    return { text: text, signatures: signatures };
  }

  // C2SP tlog-checkpoint: origin, decimal size (no leading zeros), base64 root of 32 bytes,
  // then optional extension lines (ignored here).
  function parseCheckpoint(text) {
    var lines = text.split("\n");
    if (lines.length < 4 || lines[lines.length - 1] !== "" || !lines[0]) { throw new Error("not a checkpoint"); }
    if (!/^(?:0|[1-9][0-9]{0,15})$/.test(lines[1]) || Number(lines[1]) > Number.MAX_SAFE_INTEGER) {
      throw new Error("the checkpoint's size is malformed");
    }
    var rootHash = base64Decode(lines[2]);
    if (rootHash.length !== 32) { throw new Error("the checkpoint's root is not 32 bytes"); }
    return { origin: lines[0], size: Number(lines[1]), root: rootHash };
  }

  // Verifies the note's signature by `key` (name and key id must match a line) and returns the
  // parsed checkpoint; throws a Failure("signature") or Failure("checkpoint").
  function openCheckpoint(deps, noteText, key) {
    var note;
    try { note = parseNote(noteText); } catch (e) { fail("checkpoint", e.message); }
    var line = null;
    for (var i = 0; i < note.signatures.length; i++) {
      var s = note.signatures[i];
      if (s.name === key.name && equal(s.keyId, key.keyId)) { line = s; break; }
    }
    if (!line) { fail("signature", "no signature line by " + key.name); }
    if (line.signature.length !== 64) { fail("signature", "the signature is not 64 bytes"); }
    return Promise.resolve(deps.ed25519Verify(line.signature, utf8(note.text), key.publicKey))
      .then(function (good) {
        if (!good) { fail("signature", "the signature does not verify"); }
        try { return parseCheckpoint(note.text); } catch (e) { fail("checkpoint", e.message); }
      });
  }

  /* ---- the whole check ---- */

  function requestFailure(step, error, extra) {
    // A network error is not a verdict; an HTTP error answer (404, 400, 410) is the step's failure.
    if (error && error.code === "network") { return new Failure("network", "no answer", extra); }
    return new Failure(step, "HTTP " + (error && error.status) + " " + ((error && error.message) || ""), extra);
  }

  // params: {log, index, content (URL or ""), key (text), attachments: [{url, sha256}]}
  // deps: {get(url, {cache}) -> Promise<Uint8Array> (rejects {code: "network"|"http", status, message}),
  //        sha256(bytes) -> Uint8Array | Promise, ed25519Verify(sig, msg, publicKey) -> bool | Promise}
  // Resolves {index, size, keyName, origin, root, contentSha256, withdrawn}; rejects with a Failure.
  function check(params, deps) {
    var index = params.index;
    var extra = { index: index };
    var key;
    var header;
    var leafBytes;
    var result = { index: index, withdrawn: !params.content };
    function getBytes(step, url, options) {
      return deps.get(url, options || {}).catch(function (error) { throw requestFailure(step, error, extra); });
    }
    function getJSON(step, url, options) {
      return getBytes(step, url, options).then(function (bytes) {
        try { return JSON.parse(fromUtf8(bytes)); } catch (e) { fail(step, "not JSON", extra); }
      });
    }
    function sha(bytes) { return Promise.resolve(deps.sha256(bytes)); }

    return Promise.resolve().then(function () {
      if (!isSize(index)) { fail("leaf", "no index", extra); }
      try { key = parseVerifierKey(params.key); } catch (e) { fail("key", e.message, extra); }
      extra.key = key.name;
      result.keyName = key.name;
      return keyIdMatches(deps.sha256, key);
    }).then(function (matches) {
      if (!matches) { fail("key", "the key id does not match the key", extra); }
      return fingerprint(deps.sha256, params.key);
    }).then(function (print) {
      result.fingerprint = print;
      extra.fingerprint = print;
      // The signed checkpoint first: the log serves entries only up to its size, so an entry
      // newer than it is "not checked yet" rather than missing.
      return getBytes("checkpoint", params.log + "/checkpoint", { cache: "no-cache" });
    }).then(function (bytes) {
      var text;
      try { text = fromUtf8(bytes); } catch (e) { fail("checkpoint", "not UTF-8", extra); }
      return Promise.resolve().then(function () { return openCheckpoint(deps, text, key); }).catch(function (e) {
        if (e instanceof Failure) { e.extra = extra; }
        throw e;
      });
    }).then(function (checkpoint) {
      result.size = checkpoint.size;
      result.origin = checkpoint.origin;
      result.root = checkpoint.root;
      extra.size = checkpoint.size;
      if (checkpoint.size <= index) { fail("pending", "the checkpoint is older than the entry", extra); }
      // The leaf is served as immutable; "no-cache" still asks the server for what it holds now,
      // so a leaf rewritten since an earlier visit is seen (and fails the proof) on a reload.
      return getJSON("leaf", params.log + "/entries?start=" + index + "&end=" + (index + 1), { cache: "no-cache" });
    }).then(function (answer) {
      var first = answer && answer.entries && answer.entries[0];
      if (!first || first.index !== index || typeof first.leaf !== "string") { fail("leaf", "no such entry", extra); }
      try {
        leafBytes = base64Decode(first.leaf);
        header = JSON.parse(fromUtf8(leafBytes));
      } catch (e) { fail("leaf", "the leaf is not base64 JSON", extra); }
      if (!header || typeof header !== "object" || typeof header.content_sha256 !== "string") {
        fail("leaf", "the leaf has no content_sha256", extra);
      }
      if (!params.content) { return null; }
      // "no-cache": the bytes the server holds now, not a copy from an earlier visit.
      return getBytes("content", params.content, { cache: "no-cache" }).then(sha).then(function (digest) {
        result.contentSha256 = toHex(digest);
        if (result.contentSha256 !== header.content_sha256.toLowerCase()) {
          fail("content", "content SHA-256 " + result.contentSha256 + " is not the leaf's " + header.content_sha256, extra);
        }
      });
    }).then(function () {
      var listed = Array.isArray(header.attachments) ? header.attachments : [];
      var shown = params.content ? (params.attachments || []) : [];  // a withdrawal shows none
      if (params.content && shown.length !== listed.length) {
        fail("attachment", "the page shows " + shown.length + " attachments, the leaf lists " + listed.length,
          withNumber(extra, Math.min(shown.length, listed.length) + 1));
      }
      var chain = Promise.resolve();
      shown.forEach(function (item, n) {
        chain = chain.then(function () {
          var number = withNumber(extra, n + 1);
          var inLeaf = null;
          for (var i = 0; i < listed.length; i++) {
            if (listed[i] && String(listed[i].sha256).toLowerCase() === String(item.sha256).toLowerCase()) { inLeaf = listed[i]; }
          }
          if (!inLeaf) { fail("attachment", "not listed in the leaf", number); }
          return getBytes("attachment", item.url, { cache: "no-cache" }).then(function (bytes) {
            return sha(bytes).then(function (digest) {
              if (toHex(digest) !== inLeaf.sha256.toLowerCase() || (typeof inLeaf.size === "number" && inLeaf.size !== bytes.length)) {
                fail("attachment", "hash or size differs", number);
              }
            });
          });
        });
      });
      return chain;
    }).then(function () {
      return getJSON("proof", params.log + "/proof/inclusion?index=" + index + "&size=" + result.size);
    }).then(function (answer) {
      var proof;
      try {
        if (!answer || !Array.isArray(answer.hashes)) { throw new Error("no hashes"); }
        proof = answer.hashes.map(base64Decode);
      } catch (e) { fail("proof", "the proof is malformed", extra); }
      return Promise.resolve(leafHash(deps.sha256, leafBytes)).then(function (h) {
        return rootFromInclusionProof(deps.sha256, index, result.size, h, proof);
      }).then(function (computed) {
        if (!equal(computed, result.root)) { fail("proof", "the proof leads to another root", extra); }
        return result;
      }, function (e) {
        if (e instanceof Failure) { throw e; }
        fail("proof", e.message, extra);
      });
    });
  }

  function withNumber(extra, number) {
    var copy = {};
    for (var k in extra) { if (Object.prototype.hasOwnProperty.call(extra, k)) { copy[k] = extra[k]; } }
    copy.number = number;
    return copy;
  }

  /* ---- the browser: requests, crypto, the page ---- */

  function get(url, options) {
    var init = { credentials: "same-origin", headers: { "X-Requested-With": "XMLHttpRequest" } };
    if (options && options.cache) { init.cache = options.cache; }
    return root.fetch(url, init).then(function (response) {
      return response.arrayBuffer().then(function (buffer) {
        var bytes = new Uint8Array(buffer);
        if (response.ok) { return bytes; }
        var message = "";
        try { message = String(JSON.parse(fromUtf8(bytes)).error.message || ""); } catch (e) { message = ""; }
        throw { code: "http", status: response.status, message: message };
      });
    }, function () {
      throw { code: "network", status: 0, message: "" };
    });
  }

  // The vendored modules, imported once each, only when WebCrypto lacks what is needed.
  var modules = {};
  function importModule(url) {
    // A literal import() (ES2020) would stop this whole script from parsing in a browser without
    // it; through Function such a browser still gets to say "cannot check" instead of nothing.
    return new Function("u", "return import(u)")(url);
  }
  function load(url, importer) {
    if (!url) { return Promise.reject(new Failure("unsupported", "no library URL")); }
    if (!modules[url]) {
      try {
        modules[url] = Promise.resolve((importer || importModule)(url));
      } catch (e) {
        modules[url] = Promise.reject(e);
      }
    }
    return modules[url].catch(function (e) { throw new Failure("unsupported", "cannot load " + url + ": " + e); });
  }

  // SHA-256 and Ed25519 for this browser: WebCrypto where present, else the vendored modules.
  // libraries: {ed25519: URL, sha2: URL}; importer: url -> Promise<module> (default import()).
  function cryptoFor(subtle, libraries, importer) {
    var sha2 = function () { return load(libraries.sha2, importer); };
    var ed = null;
    function noble() {
      if (!ed) {
        ed = Promise.all([load(libraries.ed25519, importer), sha2()]).then(function (both) {
          both[0].hashes.sha512 = both[1].sha512;
          return both[0];
        });
      }
      return ed;
    }
    var subtleEd25519 = !!subtle;
    return {
      sha256: function (bytes) {
        if (subtle) {
          return subtle.digest("SHA-256", bytes).then(function (d) { return new Uint8Array(d); });
        }
        return sha2().then(function (m) { return m.sha256(bytes); });
      },
      ed25519Verify: function (signature, message, publicKey) {
        function viaNoble() {
          return noble().then(function (lib) {
            try { return lib.verify(signature, message, publicKey, { zip215: false }); } catch (e) { return false; }
          });
        }
        if (!subtleEd25519) { return viaNoble(); }
        return subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]).then(function (k) {
          return subtle.verify({ name: "Ed25519" }, k, signature, message);
        }, function () {
          subtleEd25519 = false;  // this browser's WebCrypto has no Ed25519
          return viaNoble();
        });
      }
    };
  }

  function readTexts(block) {
    var node = block.querySelector("script[data-verify-texts]");
    try { return JSON.parse(node.textContent); } catch (e) { return {}; }
  }

  function fill(template, values) {
    return String(template || "").replace(/\{(\w+)\}/g, function (whole, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : whole;
    });
  }

  // ok: the record verified; failed: a check failed (the record or the log is not what it
  // should be); unknown: no verdict (no answer, or a browser that cannot check).
  var STATES = { network: "unknown", unsupported: "unknown", pending: "unknown" };

  function show(block, state, sentence, details) {
    var status = block.querySelector("[data-verify-status]");
    block.setAttribute("data-verify-state", state);
    if (status) { status.textContent = sentence; }
    var list = block.querySelector("[data-verify-details]");
    if (list) {
      var rows = list.querySelectorAll("[data-verify-detail]");
      for (var i = 0; i < rows.length; i++) {
        var value = details && details[rows[i].getAttribute("data-verify-detail")];
        var dd = rows[i].querySelector("dd");
        if (dd) { dd.textContent = value === undefined ? "" : String(value); }
        rows[i].hidden = value === undefined;
      }
      list.hidden = !details;
    }
  }

  function run(block) {
    var texts = readTexts(block);
    var params = {
      log: block.getAttribute("data-log") || "",
      index: Number(block.getAttribute("data-index")),
      content: block.getAttribute("data-content") || "",
      key: block.getAttribute("data-key") || "",
      attachments: []
    };
    try { params.attachments = JSON.parse(block.getAttribute("data-attachments") || "[]"); } catch (e) { params.attachments = []; }
    if (block.getAttribute("data-index") === null || block.getAttribute("data-index") === "") { params.index = NaN; }
    show(block, "checking", texts.checking || "");
    var c = root.crypto || {};
    var deps;
    if (!root.fetch || !root.TextEncoder || !root.Promise || !root.Uint8Array) {
      show(block, "unknown", texts.unsupported || "");
      return Promise.resolve(null);
    }
    deps = cryptoFor(c.subtle || null, {
      ed25519: block.getAttribute("data-lib-ed25519"), sha2: block.getAttribute("data-lib-sha2") });
    deps.get = get;
    return check(params, deps).then(function (result) {
      var values = { index: result.index, size: result.size, key: result.keyName, fingerprint: result.fingerprint };
      show(block, "ok", fill(result.withdrawn ? texts.verified_withdrawn : texts.verified, values), {
        index: result.index, size: result.size, key: result.keyName, fingerprint: result.fingerprint, origin: result.origin,
        root: base64Encode(result.root), content: result.contentSha256 });
      return result;
    }, function (error) {
      var failure = error instanceof Failure ? error : new Failure("unsupported", String(error));
      var values = failure.extra || {};
      var sentence = texts[failure.step === "network" || failure.step === "unsupported" || failure.step === "pending"
        ? failure.step : "fail_" + failure.step];
      show(block, STATES[failure.step] || "failed", fill(sentence, values));
      block.setAttribute("data-verify-step", failure.step);
      if (root.console && root.console.warn) { root.console.warn("linli verify:", failure.step, failure.detail); }
      return failure;
    });
  }

  return {
    Failure: Failure,
    base64Encode: base64Encode,
    base64Decode: base64Decode,
    toHex: toHex,
    fromHex: fromHex,
    utf8: utf8,
    leafHash: leafHash,
    nodeHash: nodeHash,
    rootFromInclusionProof: rootFromInclusionProof,
    parseVerifierKey: parseVerifierKey,
    keyIdMatches: keyIdMatches,
    fingerprint: fingerprint,
    parseNote: parseNote,
    parseCheckpoint: parseCheckpoint,
    openCheckpoint: openCheckpoint,
    check: check,
    cryptoFor: cryptoFor,
    fill: fill,
    run: run
  };
});
