// The customer's appointment page: while they wait (checked in), their place and wait are
// read again every 5 seconds; a change of status (called, served) reloads the page.
(function () {
  "use strict";
  var place = document.getElementById("place");
  if (!place) return;
  var status = place.dataset.status;
  if (status !== "checked_in" && status !== "called") return;
  function refresh() {
    fetch(place.dataset.placeUrl, { headers: { Accept: "application/json" }, cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) return;
        if (data.status !== status) { window.location.reload(); return; }
        var text = place.querySelector("[data-testid=place-text]");
        if (text && data.text) text.textContent = data.text;
      })
      .catch(function () { /* offline for a moment: the next tick tries again */ });
  }
  window.setInterval(refresh, 5000);
})();
