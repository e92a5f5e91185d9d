/* Linli — the community map: the place picker of the intake forms and the small read-only
   map of a case's point (templates: cases/_map.html). Leaflet with no tile layer: the
   community boundary, courtyards, streets and landmarks are vector data from
   /map/<code>.json (nothing is fetched from outside the site; see docs/map.md).
   Plain ES5 for old phones. Leaflet and the layers load only when a map is shown; without
   script, or when they cannot load, the latitude/longitude fields work as before. The
   courtyard shown in words is a preview: the server decides (linli/cases/places.py). */
(function () {
  "use strict";
  if (window.linliMap) { return; }  // the include may bring the script twice
  window.linliMap = true;

  /* Labels appear from these zoom levels on (the community fits in about zoom 13.75 at
     360 px); where two would overlap, the first kept wins (courtyards, then landmarks,
     then streets, each in file order). */
  var LABEL_ZOOM = { yard: 13, feature: 14.5, street: 14.5 };
  var LABEL_ORDER = ["yard", "feature", "street"];
  var STREET_STYLE = {
    major: { color: "#9b9b9b", weight: 4 },
    minor: { color: "#adadad", weight: 2.5 },
    path: { color: "#c4c4c4", weight: 1.2 }
  };
  var FEATURE_COLOUR = { school: "#7a4fa3", hospital: "#b3261e", market: "#c26a0a", park: "#3d7f2c" };
  var YARD_COLOUR = "#0b57a4";

  function round6(x) { return Math.round(x * 1e6) / 1e6; }

  function formOf(el) {
    while (el && el.nodeName !== "FORM") { el = el.parentNode; }
    return el;
  }

  function byName(form, suffix) {
    return form.querySelector("[name$='" + suffix + "']");
  }

  /* Even-odd ray casting over [lat, lon] rings: the same test as linli/cases/places.py. */
  function inRing(lat, lon, ring) {
    var inside = false;
    for (var i = 0, n = ring.length; i < n; i++) {
      var a = ring[i], b = ring[(i + 1) % n];
      if ((a[0] > lat) !== (b[0] > lat)) {
        if (lon < a[1] + (lat - a[0]) * (b[1] - a[1]) / (b[0] - a[0])) { inside = !inside; }
      }
    }
    return inside;
  }

  /* What places.grid_at answers: the courtyard holding the point; inside the community
     boundary but in no courtyard, the one with the nearest centre; else null (outside). */
  function placeOf(data, lat, lon) {
    var yards = data.courtyards, i;
    for (i = 0; i < yards.length; i++) {
      if (yards[i].boundary.length && inRing(lat, lon, yards[i].boundary)) {
        return { yard: yards[i], inside: true };
      }
    }
    if (data.boundary.length && inRing(lat, lon, data.boundary)) {
      var best = null, bestDistance = Infinity;
      for (i = 0; i < yards.length; i++) {
        var c = yards[i].center;
        if (!c) { continue; }
        var d = (c[0] - lat) * (c[0] - lat) + (c[1] - lon) * (c[1] - lon);
        if (d < bestDistance) { best = yards[i]; bestDistance = d; }
      }
      if (best) { return { yard: best, inside: false }; }
    }
    return null;
  }

  /* ---- loading: Leaflet once per page, then the layers ---- */

  var leaflet = { state: "", waiting: [] };

  function withLeaflet(box, done, fail) {
    if (leaflet.state === "ready") { done(); return; }
    if (leaflet.state === "failed") { fail(); return; }
    leaflet.waiting.push([done, fail]);
    if (leaflet.state === "loading") { return; }
    leaflet.state = "loading";
    var scriptLoaded = false, styleLoaded = false;
    function settle(ok) {
      if (leaflet.state !== "loading") { return; }
      leaflet.state = ok ? "ready" : "failed";
      var waiting = leaflet.waiting;
      leaflet.waiting = [];
      for (var i = 0; i < waiting.length; i++) { waiting[i][ok ? 0 : 1](); }
    }
    function check() { if (scriptLoaded && styleLoaded) { settle(true); } }
    var link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = box.getAttribute("data-leaflet-css");
    // A browser that never reports the stylesheet still gets the map, a little later.
    link.onload = link.onerror = function () { styleLoaded = true; check(); };
    setTimeout(function () { styleLoaded = true; check(); }, 3000);
    document.head.appendChild(link);
    var script = document.createElement("script");
    script.src = box.getAttribute("data-leaflet-js");
    script.onload = function () { scriptLoaded = !!window.L; if (scriptLoaded) { check(); } else { settle(false); } };
    script.onerror = function () { settle(false); };
    document.head.appendChild(script);
  }

  function getJSON(url, done, fail) {
    window.linliHttp.get(url, {
      done: function (data) {
        if (data && data.boundary && data.courtyards) { done(data); } else { fail(); }
      },
      fail: function () { fail(); }
    });
  }

  function load(box, url, done, fail) {
    // Without http.js (loaded before this file) there are no layers: the fields work alone.
    if (!url || !window.linliHttp) { fail(); return; }
    withLeaflet(box, function () { getJSON(url, done, fail); }, fail);
  }

  /* ---- drawing ---- */

  function escapeHtml(text) {
    return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }

  function newMap(box, options) {
    var L = window.L;
    var map = L.map(box.querySelector(".map-canvas"), {
      preferCanvas: true, zoomControl: false, minZoom: 12, maxZoom: 19, zoomSnap: 0.25,
      dragging: options.dragging, scrollWheelZoom: options.scrollWheelZoom,
      // A read-only map takes no keyboard focus itself: its zoom buttons do (axe's
      // nested-interactive rule: a focusable box holding buttons).
      keyboard: options.keyboard !== false
    });
    L.control.zoom({
      zoomInTitle: box.getAttribute("data-zoom-in"), zoomOutTitle: box.getAttribute("data-zoom-out")
    }).addTo(map);
    map.attributionControl.setPrefix(false);
    return map;
  }

  function label(latlng, text, kind) {
    var L = window.L;
    var span = document.createElement("span");
    span.appendChild(document.createTextNode(text));
    return L.marker(latlng, {
      icon: L.divIcon({ className: "map-label " + kind, html: span, iconSize: [0, 0] }),
      interactive: false, keyboard: false
    });
  }

  /* The point halfway along the longest line of a street (by length on the ground). */
  function midpoint(lines) {
    var best = null, bestLength = -1, i, j;
    for (i = 0; i < lines.length; i++) {
      var length = 0;
      for (j = 1; j < lines[i].length; j++) { length += distance(lines[i][j - 1], lines[i][j]); }
      if (length > bestLength) { best = lines[i]; bestLength = length; }
    }
    var half = bestLength / 2;
    for (j = 1; j < best.length; j++) {
      var step = distance(best[j - 1], best[j]);
      if (step >= half && step > 0) {
        var t = half / step;
        return [best[j - 1][0] + t * (best[j][0] - best[j - 1][0]), best[j - 1][1] + t * (best[j][1] - best[j - 1][1])];
      }
      half -= step;
    }
    return best[0];
  }

  function distance(a, b) {
    var dy = b[0] - a[0], dx = (b[1] - a[1]) * Math.cos(a[0] * Math.PI / 180);
    return Math.sqrt(dx * dx + dy * dy);
  }

  /* All the community's layers in one group (so a staff member switching community can
     drop them); labels sit in groups shown from their zoom level on. */
  function drawLayers(map, data) {
    var L = window.L;
    var group = L.layerGroup();
    var labels = { yard: L.layerGroup(), feature: L.layerGroup(), street: L.layerGroup() };
    var i, longest = {}, name;
    for (i = 0; i < data.streets.length; i++) {
      var street = data.streets[i];
      var style = STREET_STYLE[street["class"]] || STREET_STYLE.path;
      L.polyline(street.lines, { color: style.color, weight: style.weight, interactive: false }).addTo(group);
      if (street.name) { longest[street.name] = (longest[street.name] || []).concat(street.lines); }
    }
    for (name in longest) {
      if (Object.prototype.hasOwnProperty.call(longest, name)) {
        label(midpoint(longest[name]), name, "street").addTo(labels.street);
      }
    }
    for (i = 0; i < data.courtyards.length; i++) {
      var yard = data.courtyards[i];
      var centre = yard.center;
      if (yard.boundary.length) {
        var shape = L.polygon(yard.boundary, {
          color: YARD_COLOUR, weight: 1.5, fillColor: YARD_COLOUR, fillOpacity: 0.08, interactive: false
        }).addTo(group);
        centre = centre || shape.getBounds().getCenter();
      }
      if (centre) { label(centre, yard.name, "yard").addTo(labels.yard); }
    }
    if (data.boundary.length) {
      L.polygon(data.boundary, {
        color: "#5c5a52", weight: 2, dashArray: "6 4", fill: false, interactive: false
      }).addTo(group);
    }
    for (i = 0; i < data.features.length; i++) {
      var feature = data.features[i];
      L.circleMarker(feature.point, {
        radius: 4, weight: 1, color: "#fff", fillColor: FEATURE_COLOUR[feature.kind] || "#555",
        fillOpacity: 1, interactive: false
      }).addTo(group);
      label(feature.point, feature.name, "feature").addTo(labels.feature);
    }
    group.addTo(map);
    if (data.attribution) { map.attributionControl.addAttribution(escapeHtml(data.attribution)); }

    function showLabels() {
      var zoom = map.getZoom(), kept = [];
      for (var i = 0; i < LABEL_ORDER.length; i++) {
        var kind = LABEL_ORDER[i];
        if (zoom >= LABEL_ZOOM[kind]) {
          labels[kind].addTo(group);
          labels[kind].eachLayer(declutter);
        } else {
          group.removeLayer(labels[kind]);
        }
      }
      function declutter(marker) {
        var element = marker.getElement(), span = element && element.firstChild;
        if (!span) { return; }
        span.style.visibility = "";
        var r = span.getBoundingClientRect();
        for (var k = 0; k < kept.length; k++) {
          var o = kept[k];
          if (r.left < o.right + 2 && o.left < r.right + 2 && r.top < o.bottom && o.top < r.bottom) {
            span.style.visibility = "hidden";
            return;
          }
        }
        kept.push(r);
      }
    }
    map.on("zoomend", showLabels);
    showLabels();
    return {
      remove: function () {
        map.off("zoomend", showLabels);
        map.removeLayer(group);
        if (data.attribution) { map.attributionControl.removeAttribution(escapeHtml(data.attribution)); }
      }
    };
  }

  /* The area to show first: the community boundary, else its courtyards; null if none. */
  function extent(data) {
    var L = window.L;
    var points = data.boundary.slice();
    if (!points.length) {
      for (var i = 0; i < data.courtyards.length; i++) {
        points = points.concat(data.courtyards[i].boundary);
        if (data.courtyards[i].center) { points.push(data.courtyards[i].center); }
      }
    }
    if (!points.length && data.center) { points.push(data.center); }
    return points.length ? L.latLngBounds(points) : null;
  }

  /* ---- the picker on the intake forms ---- */

  function setUpPicker(box) {
    var form = formOf(box);
    if (!form) { return; }
    var latField = byName(form, "latitude"), lonField = byName(form, "longitude");
    var radios = form.querySelectorAll("input[type=radio][name$='place']");
    var status = box.querySelector(".map-status");
    var communityField = form.getAttribute("data-community-field") ?
      form.querySelector("[name='" + form.getAttribute("data-community-field") + "']") : null;
    var state = { map: null, data: null, drawn: null, marker: null, url: "", busy: false };
    if (!latField || !lonField || !radios.length) { return; }

    function pointChosen() {
      for (var i = 0; i < radios.length; i++) {
        if (radios[i].checked) { return radios[i].value === "point"; }
      }
      return false;
    }

    function mapUrl() {
      if (box.getAttribute("data-map-url")) { return box.getAttribute("data-map-url"); }
      var links = box.querySelectorAll("[data-community]");
      var value = communityField ? communityField.value : "";
      for (var i = 0; i < links.length; i++) {
        if (links[i].getAttribute("data-community") === value) { return links[i].getAttribute("data-map-url"); }
      }
      return "";
    }

    function fieldPoint() {
      var lat = parseFloat(latField.value), lon = parseFloat(lonField.value);
      if (isNaN(lat) || isNaN(lon) || lat < -90 || lat > 90 || lon < -180 || lon > 180) { return null; }
      return [lat, lon];
    }

    function say(text, isError) {
      status.textContent = text;
      status.className = "map-status" + (isError ? " error" : "");
    }

    function describe(point) {
      if (!state.data || !point) { say("", false); return true; }
      var place = placeOf(state.data, point[0], point[1]);
      if (!place) {
        say(box.getAttribute("data-text-outside"), true);
        return false;
      }
      say(box.getAttribute(place.inside ? "data-text-in" : "data-text-nearest").replace("%(name)s", place.yard.name),
          false);
      return true;
    }

    function placeMarker(point) {
      if (!state.map) { return; }
      if (!point) {
        if (state.marker) { state.map.removeLayer(state.marker); state.marker = null; }
        return;
      }
      if (!state.marker) {
        var title = box.getAttribute("data-marker");
        state.marker = window.L.marker(point, { draggable: true, title: title, alt: title }).addTo(state.map);
        state.marker.on("dragend", function () {
          var at = state.marker.getLatLng();
          setPoint(at.lat, at.lng);
        });
      } else {
        state.marker.setLatLng(point);
      }
    }

    /* A point chosen on the map (tap, drag, location): into the fields, 6 decimals. */
    function setPoint(lat, lon) {
      lat = round6(lat);
      lon = round6(lon);
      latField.value = lat.toFixed(6);
      lonField.value = lon.toFixed(6);
      placeMarker([lat, lon]);
      describe([lat, lon]);
    }

    function fromFields() {
      var point = fieldPoint();
      placeMarker(point);
      describe(point);
      // Typed or located out of view (say, "Use my location"): bring the point into view.
      if (point && state.map && !state.map.getBounds().contains(point)) { state.map.panTo(point); }
    }

    function failed() {
      state.busy = false;
      if (state.map) { return; }  // a later community's layers failed: keep the map there is
      box.hidden = false;
      box.querySelector(".map-canvas").hidden = true;
      box.querySelector(".hint").hidden = true;
      say(box.getAttribute("data-text-failed"), false);
    }

    function show(data) {
      state.busy = false;
      var bounds = extent(data);
      if (!bounds) {  // a community with no outline yet: nothing to draw, the fields remain
        if (state.drawn) { state.drawn.remove(); }
        state.drawn = state.data = null;
        box.hidden = true;
        return;
      }
      box.hidden = false;
      box.querySelector(".map-canvas").hidden = false;
      box.querySelector(".hint").hidden = false;
      if (!state.map) {
        state.map = newMap(box, { dragging: true, scrollWheelZoom: true });
        state.map.on("click", function (event) { setPoint(event.latlng.lat, event.latlng.lng); });
      } else {
        state.map.invalidateSize();
      }
      if (state.drawn) { state.drawn.remove(); }
      state.data = data;
      // The view first: labels are laid out (and thinned) for the zoom they appear at.
      state.map.setMaxBounds(bounds.pad(0.5));
      state.map.fitBounds(bounds, { padding: [8, 8], animate: false });
      var point = fieldPoint();
      if (point) { state.map.setView(point, Math.max(state.map.getZoom(), 16), { animate: false }); }
      state.drawn = drawLayers(state.map, data);
      fromFields();
    }

    function open() {
      if (!pointChosen()) { return; }
      var url = mapUrl();
      if (state.map && url === state.url) {
        state.map.invalidateSize();  // it may have been laid out while hidden
        return;
      }
      if (state.busy || !url) {
        if (!url) { failed(); }
        return;
      }
      state.busy = true;
      state.url = url;
      load(box, url, show, failed);
    }

    for (var i = 0; i < radios.length; i++) { radios[i].addEventListener("change", open); }
    if (communityField) { communityField.addEventListener("change", open); }
    latField.addEventListener("input", fromFields);
    lonField.addEventListener("input", fromFields);
    latField.addEventListener("change", fromFields);
    lonField.addEventListener("change", fromFields);

    // "Use my location" is cases.js's: it fills the fields and fires "change", handled above.

    // Outside the community: say so now rather than after a round trip.
    form.addEventListener("submit", function (event) {
      if (!pointChosen() || !state.data) { return; }
      var point = fieldPoint();
      if (point && !describe(point)) {
        event.preventDefault();
        if (status.scrollIntoView) { status.scrollIntoView(); }
      }
    });
    open();
  }

  /* ---- the read-only map of a case's point ---- */

  function setUpView(box) {
    var parts = (box.getAttribute("data-point") || "").split(",");
    var lat = parseFloat(parts[0]), lon = parseFloat(parts[1]);
    if (isNaN(lat) || isNaN(lon)) { return; }
    load(box, box.getAttribute("data-map-url"), function (data) {
      box.hidden = false;
      var touch = "ontouchstart" in window;
      // On a phone a one-finger drag scrolls the page, not this small map (zoom buttons remain).
      var map = newMap(box, { dragging: !touch, scrollWheelZoom: false, keyboard: false });
      map.setView([lat, lon], 16);
      drawLayers(map, data);
      var title = box.getAttribute("data-marker");
      window.L.marker([lat, lon], { title: title, alt: title, keyboard: false }).addTo(map);
    }, function () { /* the coordinates are written on the page */ });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var boxes = document.querySelectorAll(".place-map[data-map]");
    for (var i = 0; i < boxes.length; i++) {
      if (boxes[i].getAttribute("data-map") === "picker") { setUpPicker(boxes[i]); } else { setUpView(boxes[i]); }
    }
  });
})();
