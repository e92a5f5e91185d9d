/* Linli — small helpers for the case pages. Plain ES5-level script for old phones;
   every page works without it (the server decides everything). */
(function () {
  "use strict";
  document.documentElement.className += " js";

  function byName(form, suffix) {
    return form.querySelector("[name$='" + suffix + "']");
  }

  /* Place: show the courtyard or the point inputs for the chosen place. */
  function setUpPlace(form) {
    var radios = form.querySelectorAll("input[type=radio][name$='place']");
    var details = form.querySelectorAll(".place-detail");
    if (!radios.length) { return; }
    function update() {
      var chosen = "";
      for (var i = 0; i < radios.length; i++) { if (radios[i].checked) { chosen = radios[i].value; } }
      for (var j = 0; j < details.length; j++) {
        details[j].hidden = details[j].getAttribute("data-place") !== chosen;
      }
    }
    for (var i = 0; i < radios.length; i++) { radios[i].addEventListener("change", update); }
    update();

    var locate = form.querySelector("button.locate");
    if (!locate || !navigator.geolocation) { return; }
    var status = form.querySelector(".locate-status");
    locate.hidden = false;
    locate.addEventListener("click", function () {
      status.textContent = locate.getAttribute("data-busy");
      navigator.geolocation.getCurrentPosition(function (position) {
        byName(form, "latitude").value = position.coords.latitude.toFixed(6);
        byName(form, "longitude").value = position.coords.longitude.toFixed(6);
        // The map (map.js), where shown, follows the fields.
        byName(form, "latitude").dispatchEvent(new Event("change", { bubbles: true }));
        status.textContent = "";
      }, function () {
        status.textContent = locate.getAttribute("data-failed");
      }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
    });
  }

  /* Category: ask the server for a suggestion while the problem is described. */
  function setUpSuggestion(form) {
    var url = form.getAttribute("data-suggest-url");
    var text = byName(form, "description");
    var select = byName(form, "category");
    var box = form.querySelector("#suggestion");
    // Requests go through http.js (loaded before this file); without it there is simply no suggestion.
    if (!url || !text || !select || !box || !window.linliHttp || !window.FormData) { return; }
    var touched = select.value !== "";
    var timer = null;
    var last = "";
    select.addEventListener("change", function () { touched = true; });

    function community() {
      var fieldName = form.getAttribute("data-community-field");
      if (fieldName) {
        var field = form.querySelector("[name='" + fieldName + "']");
        return field ? field.value : "";
      }
      return form.getAttribute("data-community") || "";
    }

    function show(answer) {
      box.textContent = "";
      if (!answer.category) { box.hidden = true; return; }
      var sure = answer.confident;
      box.appendChild(document.createTextNode(
        box.getAttribute(sure ? "data-sure" : "data-unsure").replace("%(name)s", answer.name)));
      if (sure && !touched) {
        select.value = String(answer.category);
      } else if (select.value !== String(answer.category)) {
        var use = document.createElement("button");
        use.type = "button";
        use.textContent = box.getAttribute("data-use");
        use.addEventListener("click", function () {
          select.value = String(answer.category);
          touched = true;
          box.hidden = true;
        });
        box.appendChild(use);
      }
      box.hidden = false;
    }

    function ask() {
      var value = text.value.replace(/^\s+|\s+$/g, "");
      if (value.length < 5 || value === last) { return; }
      last = value;
      var data = new FormData();
      data.append("description", value);
      data.append("community", community());
      // A failed suggestion changes nothing: the resident picks the category as without script.
      window.linliHttp.post(url, data, { form: form, done: show });
    }

    text.addEventListener("input", function () {
      if (timer) { clearTimeout(timer); }
      timer = setTimeout(ask, 600);
    });
    text.addEventListener("blur", ask);
  }

  /* Three rates: a trend and a ranking; a click opens the cases behind the number. */
  var COLOURS = ["#0b57a4", "#c26a0a", "#3d7f2c"];

  function percent(value) { return value === null || value === undefined ? "—" : value + "%"; }

  /* Where a percentage axis starts. At 0 when the values spread widely or some are low;
     otherwise a fitted minimum a little below the lowest value, on a multiple of 5, so that
     90.5 % and 94 % look different. The minimum is stated beside the chart. */
  function axisFloor(values) {
    var known = [];
    for (var i = 0; i < values.length; i++) {
      if (values[i] !== null && values[i] !== undefined) { known.push(values[i]); }
    }
    if (!known.length) { return 0; }
    var lo = Math.min.apply(null, known), hi = Math.max.apply(null, known);
    if (lo < 50) { return 0; }
    var floor = Math.floor((lo - Math.max(2, (hi - lo) * 0.25)) / 5) * 5;
    return floor < 0 ? 0 : Math.min(floor, 95);
  }
  window.linliRates = { axisFloor: axisFloor };

  function stateFloor(noteId, floor) {
    var note = document.getElementById(noteId);
    if (!note) { return; }
    note.hidden = floor <= 0;
    note.textContent = floor > 0 ? note.getAttribute("data-template").replace("{min}", floor) : "";
  }

  function setUpCharts() {
    var source = document.getElementById("rates-chart");
    if (!source || !window.echarts) { return; }
    var data = JSON.parse(source.textContent);
    var names = ["response", "resolution", "satisfaction"];
    var charts = [];

    var trendBox = document.getElementById("trend-chart");
    if (trendBox) {
      var trend = window.echarts.init(trendBox);
      var all = [];
      names.forEach(function (name) { all = all.concat(data.trend[name]); });
      var trendFloor = axisFloor(all);
      stateFloor("trend-axis-note", trendFloor);
      // The month not over yet: its label says so and a dashed line marks it.
      var partial = trendBox.getAttribute("data-partial-month");
      var partialLabel = trendBox.getAttribute("data-partial-label");
      var partialIndex = data.months.indexOf(partial);
      var months = data.months.map(function (label, i) {
        return i === partialIndex ? label + "\n(" + partialLabel + ")" : label;
      });
      trend.setOption({
        color: COLOURS,
        animation: false,
        tooltip: { trigger: "axis", valueFormatter: percent },
        legend: { top: 0, itemGap: 12 },
        grid: { left: 46, right: 14, top: 56, bottom: partialIndex >= 0 ? 40 : 28 },
        xAxis: { type: "category", data: months },
        yAxis: { type: "value", min: trendFloor, max: 100, axisLabel: { formatter: "{value}%" } },
        series: names.map(function (name, n) {
          var series = { name: data.labels[name], type: "line", data: data.trend[name], symbolSize: 8,
                         connectNulls: false };
          if (partialIndex >= 0 && n === 0) {
            series.markLine = { silent: true, symbol: "none", label: { formatter: partialLabel, color: "#555" },
                                lineStyle: { type: "dashed", color: "#888" },
                                data: [{ xAxis: months[partialIndex] }] };
          }
          return series;
        })
      });
      trend.on("click", function (event) {
        if (event.componentType !== "series") { return; }
        var url = data.trend_urls[names[event.seriesIndex]][event.dataIndex];
        if (url) { window.location.href = url; }
      });
      charts.push(trend);
    }

    var rankingBox = document.getElementById("ranking-chart");
    if (rankingBox) {
      var ranking = data.ranking;
      var rankingFloor = axisFloor(ranking.values);
      stateFloor("ranking-axis-note", rankingFloor);
      rankingBox.style.height = Math.max(300, ranking.groups.length * 30 + 60) + "px";
      var chart = window.echarts.init(rankingBox);
      chart.setOption({
        color: [COLOURS[names.indexOf(ranking.rate)]],
        animation: false,
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, valueFormatter: percent },
        grid: { left: 8, right: 48, top: 8, bottom: 24, containLabel: true },
        xAxis: { type: "value", min: rankingFloor, max: 100, axisLabel: { formatter: "{value}%", showMinLabel: true } },
        yAxis: { type: "category", data: ranking.groups.slice().reverse(),
                 axisLabel: { width: 110, overflow: "truncate" } },
        series: [{ name: ranking.label, type: "bar", barMaxWidth: 26, data: ranking.values.slice().reverse(),
                   label: { show: true, position: "right", formatter: function (p) { return percent(p.value); } } }]
      });
      chart.on("click", function (event) {
        var url = ranking.urls[ranking.urls.length - 1 - event.dataIndex];
        if (url) { window.location.href = url; }
      });
      charts.push(chart);
    }
    window.addEventListener("resize", function () {
      for (var i = 0; i < charts.length; i++) { charts[i].resize(); }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var forms = document.querySelectorAll("form.intake");
    for (var i = 0; i < forms.length; i++) {
      setUpPlace(forms[i]);
      setUpSuggestion(forms[i]);
    }
    setUpCharts();
  });
})();
