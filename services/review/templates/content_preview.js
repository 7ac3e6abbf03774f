// The editor's live preview: the server renders the WhatsApp bubble (services/review/content.py),
// so the page never shows anything but what the recipient gets. Without this script the
// "Pratinjau" button does the same with a page load.
(function () {
  "use strict";
  var form = document.getElementById("content-editor");
  var text = document.getElementById("content-text");
  if (!form || !text) { return; }
  var timer = null;
  var sent = 0;
  function refresh() {
    var body = new FormData(form);
    body.append("fragment", "1");
    var number = ++sent;
    fetch(form.getAttribute("data-preview"), { method: "POST", body: body, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        var target = document.getElementById("preview");
        if (html !== null && target && number === sent) { target.outerHTML = html; }
      })
      .catch(function () { /* the next keystroke tries again */ });
  }
  text.addEventListener("input", function () {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(refresh, 250);
  });
})();
