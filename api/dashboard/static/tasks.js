// Backups and Settings pages: "Back up now" and "Send test email" without a page reload.
// The form posts with the API key in X-API-Key to the REST endpoint, then follows the
// request at GET /api/tasks/{id} until it is done or failed. Without JavaScript the same
// form posts to the page, which redirects to a status page. No inline code (CSP 'self').
(function () {
  "use strict";
  var POLL_MS = 1000;
  var GIVE_UP_MS = 15 * 60 * 1000; // a backup of a large database on a Pi takes minutes

  document.querySelectorAll("form[data-task-api]").forEach(function (form) {
    var input = form.querySelector("input[type=password]");
    var result = document.getElementById(form.dataset.taskResult);
    var button = form.querySelector("button[data-task]");
    if (!input || !result || !button) return;

    function show(text, state) {
      result.textContent = text;
      result.className = "result " + state;
    }

    function follow(url, started) {
      fetch(url, { headers: { Accept: "application/json" }, cache: "no-store" })
        .then(function (response) {
          return response.json().then(function (body) { return [response.status, body]; });
        })
        .then(function (answer) {
          var status = answer[0], body = answer[1];
          if (status !== 200) {
            show("Could not follow the request (" + status + "): " + (body.error || ""), "bad");
            return;
          }
          var text = body.status + (body.message ? ": " + body.message : "");
          if (body.status === "done" || body.status === "failed") {
            show(text, body.status === "done" ? "ok" : "bad");
            button.disabled = false;
            if (body.status === "done" && form.dataset.taskReload) {
              var link = document.getElementById(form.dataset.taskReload);
              if (link) link.hidden = false;
            }
            return;
          }
          show(text, "pending");
          if (Date.now() - started > GIVE_UP_MS) {
            show("Still " + body.status + " after 15 minutes; see the list of requests.", "bad");
            button.disabled = false;
            return;
          }
          window.setTimeout(function () { follow(url, started); }, POLL_MS);
        })
        .catch(function (error) {
          show("Could not reach the API: " + error.message, "bad");
          button.disabled = false;
        });
    }

    button.addEventListener("click", function (event) {
      event.preventDefault();
      if (!input.value) {
        show("Enter the API key first.", "bad");
        input.focus();
        return;
      }
      button.disabled = true;
      show("Sending…", "pending");
      fetch(form.dataset.taskApi, {
        method: "POST",
        headers: { "X-API-Key": input.value, Accept: "application/json" },
        credentials: "same-origin",
        cache: "no-store",
      })
        .then(function (response) {
          return response.json().catch(function () { return {}; }).then(function (body) {
            if (response.status === 202) {
              show("queued (request " + body.request_id + ")", "pending");
              follow(body.status_url, Date.now());
              return;
            }
            button.disabled = false;
            show("Refused (" + response.status + "): " + (body.error || response.statusText), "bad");
          });
        })
        .catch(function (error) {
          button.disabled = false;
          show("Could not reach the API: " + error.message, "bad");
        });
    });
  });
})();
