// Import pages: the progress bar polls the job's status (JSON) until the file is read (then the
// column mapping opens) or the import has finished (then the page shows its outcome).
(function () {
  "use strict";
  var card = document.getElementById("import-progress-card");
  if (!card) { return; }
  var bar = document.getElementById("import-progress");
  var percent = document.getElementById("import-percent");
  var count = document.getElementById("import-count");
  var state = document.getElementById("import-state");
  var statusUrl = card.getAttribute("data-status-url");
  var nextUrl = card.getAttribute("data-next-url");

  function phaseText(s) {
    if (s.status === "pending") { return card.getAttribute("data-phase-queued"); }
    return card.getAttribute("data-phase-" + (s.phase || "validating")) || state.textContent;
  }

  function show(s) {
    bar.value = s.percent;
    bar.textContent = s.percent + "%";
    percent.textContent = s.percent + "%";
    if (s.total_rows) {
      count.hidden = false;
      count.textContent = s.processed_rows.toLocaleString() + " / " + s.total_rows.toLocaleString();
    } else {
      count.hidden = true;
    }
    state.textContent = phaseText(s);
  }

  function poll() {
    fetch(statusUrl, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (s) {
        if (nextUrl && s.status === "pending") {  // read and kept: on to the mapping
          bar.value = 100; percent.textContent = "100%";
          window.location.assign(nextUrl);
          return;
        }
        show(s);
        if (s.finished) { window.location.reload(); } else { window.setTimeout(poll, 700); }
      })
      .catch(function () { state.textContent = card.getAttribute("data-error"); window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 300);
})();
