// KAMO Load Logger dashboard: the few things that need a script. Every page works without
// it except "Trigger import". No inline code anywhere (the CSP allows 'self' scripts only).
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // Pickers and filters: apply on change instead of waiting for the button.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () {
      if (select.form) select.form.submit();
    });
  });

  // Trigger import: POST with the API key in X-API-Key. The key lives in this closure
  // only (no storage, no cookie): reloading the page forgets it.
  var form = document.getElementById("trigger-form");
  if (!form) return;
  var input = document.getElementById("api-key");
  var result = document.getElementById("trigger-result");
  var key = "";
  form.hidden = false;

  function show(text, ok) {
    result.textContent = text;
    result.className = "result " + (ok ? "ok" : "bad");
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (input.value) key = input.value;
    input.value = "";
    input.placeholder = key ? "key kept for this page" : "API_KEY of this server";
    if (!key) {
      show("Enter the API key first.", false);
      input.focus();
      return;
    }
    show("Sending…", true);
    fetch(form.dataset.url, {
      method: "POST",
      headers: { "X-API-Key": key, Accept: "application/json" },
      credentials: "same-origin",
      cache: "no-store",
    })
      .then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (body) {
          if (response.status === 202) {
            show("Queued as request " + body.request_id +
              ". The collector picks it up within seconds; see the import log.", true);
            return;
          }
          if (response.status === 401) key = "";
          input.placeholder = key ? "key kept for this page" : "API_KEY of this server";
          show("Refused (" + response.status + "): " + (body.error || response.statusText), false);
        });
      })
      .catch(function (error) {
        show("Could not reach the API: " + error.message, false);
      });
  });
})();
