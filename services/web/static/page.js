// The liaison's page works without this script; with it, a tap cannot post twice and a
// photo over the limit is caught before it is sent over a slow mobile connection.
(function () {
  "use strict";
  document.querySelectorAll("form.task").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      var input = form.querySelector("input[type=file]");
      var limit = Number(document.body.dataset.photoMaxBytes || 0);
      if (input && input.files && input.files[0] && limit && input.files[0].size > limit) {
        event.preventDefault();
        window.alert(document.body.dataset.photoAlert);
        return;
      }
      // Disabled after the browser has read which button was pressed.
      setTimeout(function () {
        form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
      }, 0);
    });
  });
})();
