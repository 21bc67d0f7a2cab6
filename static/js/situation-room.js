// The situation room kept up to date (templates/situation/room.html). Loaded as a file: the
// Content-Security-Policy forbids inline scripts. An EventSource reads the stream named in
// data-stream; every event is the page's figures as JSON, already worded by the server, which this
// script only writes in: cells by data-field with textContent, the sparklines' bars with
// setAttribute (y and height), the alarm list line by line. An alarm whose key was not on the page
// before is also written into the polite live region, so a screen reader announces it once. The
// server ends the stream every minute and EventSource reconnects by itself; if it gives up (the
// session ended, the server is down), this script tries again, less and less often.
(function () {
  "use strict";
  var room = document.getElementById("situation-room");
  if (!room || typeof window.EventSource !== "function") {
    return; // the page keeps the figures of its loading, and its reload link
  }
  var tbody = document.querySelector("#situation-gates tbody");
  var template = document.getElementById("situation-row");
  var alarmList = document.getElementById("situation-alarms");
  var noAlarms = document.getElementById("situation-no-alarms");
  var noGates = document.getElementById("situation-no-gates");
  var announcer = document.getElementById("situation-announcer");
  var connection = document.getElementById("situation-connection");
  var clock = document.getElementById("situation-time");
  var known = {};
  var ANNOUNCED_KEEP = 10;
  var retryDelay = 2000;
  var source = null;
  var lostTimer = null;
  var LOST_AFTER = 3000; // the stream ends every minute by design: only a longer gap is news

  Array.prototype.forEach.call(alarmList.querySelectorAll("li[data-key]"), function (item) {
    known[item.getAttribute("data-key")] = true; // on the page already: not news
  });

  function setText(element, text) {
    if (element && element.textContent !== text) {
      element.textContent = text;
    }
  }

  function rowFor(gate) {
    var rows = tbody.querySelectorAll("tr[data-gate]");
    for (var i = 0; i < rows.length; i += 1) {
      if (rows[i].getAttribute("data-gate") === gate.code) {
        return rows[i];
      }
    }
    var row = template.content.querySelector("tr").cloneNode(true);
    row.setAttribute("data-gate", gate.code);
    return row;
  }

  function drawSpark(svg, spark) {
    var bars = svg.querySelectorAll("rect");
    svg.setAttribute("aria-label", spark.label);
    for (var i = 0; i < bars.length && i < spark.bars.length; i += 1) {
      bars[i].setAttribute("y", String(spark.bars[i][0]));
      bars[i].setAttribute("height", String(spark.bars[i][1]));
    }
  }

  function fillRow(row, gate) {
    setText(row.querySelector('[data-field="code"]'), gate.code);
    setText(row.querySelector('[data-field="name"]'), gate.name);
    setText(row.querySelector('[data-field="zone"]'), gate.zone);
    setText(row.querySelector('[data-field="state"]'), gate.state);
    Object.keys(gate.cells).forEach(function (field) {
      setText(row.querySelector('[data-field="' + field + '"]'), gate.cells[field]);
    });
    drawSpark(row.querySelector('[data-field="spark"]'), gate.spark);
    row.classList.toggle("ztl-situation-alarm", gate.alarm);
    row.classList.toggle("ztl-situation-ok", !gate.alarm);
  }

  function updateGates(gates) {
    var keep = {};
    var previous = null;
    gates.forEach(function (gate) {
      var row = rowFor(gate);
      fillRow(row, gate);
      keep[gate.code] = true;
      var expected = previous ? previous.nextElementSibling : tbody.firstElementChild;
      if (row !== expected) {
        tbody.insertBefore(row, expected); // the server's order: known gates, then the others
      }
      previous = row;
    });
    Array.prototype.forEach.call(tbody.querySelectorAll("tr[data-gate]"), function (row) {
      if (!keep[row.getAttribute("data-gate")]) {
        tbody.removeChild(row);
      }
    });
    noGates.classList.toggle("d-none", gates.length > 0);
  }

  function announce(text) {
    var line = document.createElement("p");
    line.textContent = room.getAttribute("data-new-alarm").replace("{alarm}", text);
    announcer.appendChild(line);
    while (announcer.childElementCount > ANNOUNCED_KEEP) {
      announcer.removeChild(announcer.firstElementChild);
    }
  }

  function updateAlarms(alarms) {
    var items = alarmList.querySelectorAll("li");
    var now = {};
    alarms.forEach(function (alarm, index) {
      var item = items[index];
      if (!item) {
        item = document.createElement("li");
        item.className = "alert alert-warning mb-2";
        alarmList.appendChild(item);
      }
      item.setAttribute("data-key", alarm.key);
      setText(item, alarm.text);
      now[alarm.key] = true;
      if (!known[alarm.key]) {
        announce(alarm.text);
      }
    });
    for (var i = alarms.length; i < items.length; i += 1) {
      alarmList.removeChild(items[i]);
    }
    known = now; // an alarm that ends and comes back is news again
    alarmList.classList.toggle("d-none", alarms.length === 0);
    noAlarms.classList.toggle("d-none", alarms.length > 0);
  }

  function updateTotals(totals) {
    Object.keys(totals).forEach(function (key) {
      setText(room.querySelector('[data-total="' + key + '"]'), totals[key]);
    });
  }

  function update(event) {
    var data;
    try {
      data = JSON.parse(event.data);
    } catch (ignored) {
      return;
    }
    retryDelay = 2000;
    window.clearTimeout(lostTimer);
    lostTimer = null;
    setText(connection, room.getAttribute("data-live-text"));
    clock.setAttribute("datetime", data.at);
    setText(clock, data.time);
    updateGates(data.gates);
    updateAlarms(data.alarms);
    updateTotals(data.totals);
    room.setAttribute("data-updated", data.at); // for tests and for anyone inspecting the page
  }

  function connect() {
    source = new window.EventSource(room.getAttribute("data-stream"));
    source.addEventListener("message", update);
    source.addEventListener("error", function () {
      if (lostTimer === null) {
        lostTimer = window.setTimeout(function () {
          setText(connection, room.getAttribute("data-lost-text"));
        }, LOST_AFTER);
      }
      if (source.readyState === window.EventSource.CLOSED) {
        // EventSource gave up (an answer that is not a stream): try again, less and less often.
        window.setTimeout(connect, retryDelay);
        retryDelay = Math.min(retryDelay * 2, 60000);
      }
    });
  }

  connect();
})();
