// The lobby screen: a WebSocket on the location's waiting room (/ws/lobby/<id>/, the staff
// session) says when a ticket is called or joins the line; the screen then reads itself
// again and swaps its two lists. The page's own refresh (every minute) covers a lost nudge.
(function () {
  "use strict";
  var body = document.body;
  var locationId = body.dataset.locationId;
  if (!locationId || !("WebSocket" in window)) return;
  var delay = 1000;
  var LISTS = ["lobby-called", "lobby-waiting"];

  function refresh() {
    fetch(window.location.href, { cache: "no-store", credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html) return;
        var fresh = new DOMParser().parseFromString(html, "text/html");
        LISTS.forEach(function (id) {
          var selector = "[data-testid=" + id + "]";
          var now = document.querySelector(selector), next = fresh.querySelector(selector);
          if (now && next) now.replaceWith(document.importNode(next, true));
        });
      })
      .catch(function () { /* the next nudge or the page's refresh tries again */ });
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + window.location.host + "/ws/lobby/" + locationId + "/");
    socket.onmessage = function (message) {
      var frame = JSON.parse(message.data);
      if (frame.type === "ready") { body.dataset.live = "on"; delay = 1000; refresh(); }
      else if (frame.type === "changed") refresh();
    };
    socket.onclose = function (event) {
      body.dataset.live = "off";
      if (event.code === 4401 || event.code === 4403) return;
      window.setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }

  connect();
})();
