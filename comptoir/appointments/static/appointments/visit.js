// The customer's appointment page: while the booking is open (booked, waiting, called, on hold), a
// WebSocket on the location's waiting room (/ws/appointments/<token>/) says when anything
// changed there; the page then reads its place and wait from place/ (a change of status —
// checked in, called, served — reloads the page). The socket carries no data. A slow poll
// covers a lost nudge; a closed socket reconnects with backoff, unless it was refused.
(function () {
  "use strict";
  var place = document.getElementById("place");
  if (!place) return;
  var status = place.dataset.status;
  if (["booked", "checked_in", "called", "parked"].indexOf(status) < 0) return;
  var FALLBACK_POLL_MS = 60000;
  var REFUSED = 4401;
  var delay = 1000;

  function refresh() {
    fetch(place.dataset.placeUrl, { headers: { Accept: "application/json" }, cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) return;
        if (data.status !== status) { window.location.reload(); return; }
        var text = place.querySelector("[data-testid=place-text]");
        if (text && data.text) text.textContent = data.text;
      })
      .catch(function () { /* offline for a moment: the next nudge or poll tries again */ });
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + window.location.host + "/ws/appointments/" + place.dataset.token + "/");
    place.dataset.live = "connecting";
    socket.onmessage = function (message) {
      var frame = JSON.parse(message.data);
      if (frame.type === "ready") { place.dataset.live = "on"; delay = 1000; refresh(); }
      else if (frame.type === "changed") refresh();
    };
    socket.onclose = function (event) {
      place.dataset.live = "off";
      if (event.code === REFUSED) return;
      window.setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }

  if ("WebSocket" in window) connect();
  window.setInterval(refresh, FALLBACK_POLL_MS);
})();
