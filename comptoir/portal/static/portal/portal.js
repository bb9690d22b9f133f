// The conversation page follows the thread: every few seconds, while the page is
// visible, the server's rendering of the messages (escaped there) replaces the list.
(function () {
  "use strict";
  var thread = document.querySelector("[data-thread-url]");
  if (!thread) return;
  function refresh() {
    if (document.hidden) return;
    fetch(thread.getAttribute("data-thread-url"), { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html !== null && html.trim() !== thread.innerHTML.trim()) thread.innerHTML = html;
      })
      .catch(function () {});
  }
  setInterval(refresh, 5000);
})();
