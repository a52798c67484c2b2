// 盘图: small behaviours on top of htmx. No framework, no network beyond our own server.
(function () {
  "use strict";

  // Filters send only what is set, so shared and pushed URLs stay readable.
  document.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.verb !== "get") return;
    var params = event.detail.parameters;
    var names = params instanceof FormData ? Array.from(params.keys()) : Object.keys(params);
    names.forEach(function (name) {
      var value = params instanceof FormData ? params.get(name) : params[name];
      if (value === "" || value === null) {
        if (params instanceof FormData) params.delete(name); else delete params[name];
      }
    });
  });

  // A failed htmx request must never look like a success: say so, in the page's language.
  function showError(status) {
    var body = document.body;
    var message = body.getAttribute("data-error-message") || "Request failed";
    if (status === 404) message = body.getAttribute("data-error-404") || message;
    if (status === 403) message = body.getAttribute("data-error-403") || message;
    if (!status) message = body.getAttribute("data-error-offline") || message;
    var box = document.getElementById("htmx-error");
    box.textContent = message;
    box.hidden = false;
  }
  document.addEventListener("htmx:responseError", function (event) {
    showError(event.detail.xhr.status);
  });
  document.addEventListener("htmx:sendError", function () { showError(0); });
  document.addEventListener("htmx:beforeRequest", function () {
    var box = document.getElementById("htmx-error");
    if (box) box.hidden = true;
  });
})();
