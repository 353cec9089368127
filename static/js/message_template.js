// Live preview of a step's wording (issue 14 item 4): the server fills the variables with a
// sample customer; the text comes back as plain text and is set with textContent, never as HTML.
(function () {
  "use strict";
  var form = document.querySelector("[data-testid=message-template-form]");
  if (!form || !window.fetch) { return; }
  var subject = form.querySelector("[name=subject]");
  var body = form.querySelector("[name=body]");
  var outSubject = document.querySelector("[data-testid=template-preview-subject]");
  var outText = document.querySelector("[data-testid=template-preview-text]");
  var outError = document.querySelector("[data-testid=template-preview-error]");
  var timer = null;
  var sequence = 0;

  function refresh() {
    var mine = ++sequence;
    var data = new FormData();
    data.append("csrfmiddlewaretoken", form.querySelector("[name=csrfmiddlewaretoken]").value);
    data.append("subject", subject.value);
    data.append("body", body.value);
    fetch(form.getAttribute("data-preview-url"), {method: "POST", body: data, credentials: "same-origin"})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (preview) {
        if (!preview || mine !== sequence) { return; }
        outSubject.textContent = preview.subject;
        outText.textContent = preview.text;
        outError.textContent = preview.error;
        outError.hidden = !preview.error;
      })
      .catch(function () { /* the Preview button still works */ });
  }

  function later() {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 300);
  }

  subject.addEventListener("input", later);
  body.addEventListener("input", later);
}());
