/*
 * Callback queue: reload every minute, so that a request for a later slot
 * moves to "Due now" when its time comes (never while the agent is using a form).
 */
(function () {
  "use strict";
  var queue = document.getElementById("callbacks");
  if (!queue) {
    return;
  }
  var seconds = parseInt(queue.dataset.reloadSeconds || "60", 10);
  window.setInterval(function () {
    var active = document.activeElement;
    if (!active || !active.closest || !active.closest("form")) {
      window.location.reload();
    }
  }, seconds * 1000);
})();
