// The office console's one script: live progress of a mailing.
//
// An element with data-progress="<url>" is updated from that JSON endpoint once a second:
// its <progress> bar and every [data-count="<name>"] element. When the mailing is finished,
// the page is loaded again and shows the server's final report. Without this script the page
// still works: it shows the state of the moment and a link to look again. Asking for the
// progress is no use of the session (the server does not count it), so an open page does not
// keep it from ending after 30 minutes idle; then the page is loaded again and says so.
(function () {
  "use strict";
  var box = document.querySelector("[data-progress]");
  if (!box || !window.fetch) {
    return;
  }
  var url = box.getAttribute("data-progress");
  var bar = box.querySelector("progress");
  var numbers = new Intl.NumberFormat(document.documentElement.lang || "de");

  function show(state) {
    if (bar) {
      bar.max = Math.max(state.total, 1);
      bar.value = state.finished;
    }
    Object.keys(state).forEach(function (name) {
      if (typeof state[name] !== "number") {
        return;
      }
      box.querySelectorAll('[data-count="' + name + '"]').forEach(function (field) {
        field.textContent = numbers.format(state[name]);
      });
    });
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (response.status === 401) {
          // The session ended (idle, signed out): the page shows the way to sign in again.
          window.location.reload();
          throw new Error("signed out");
        }
        if (!response.ok) {
          throw new Error(String(response.status));
        }
        return response.json();
      })
      .then(function (state) {
        show(state);
        if (state.done) {
          window.location.reload();
        } else {
          window.setTimeout(poll, 1000);
        }
      })
      .catch(function () {
        window.setTimeout(poll, 5000);
      });
  }

  window.setTimeout(poll, 500);
})();
