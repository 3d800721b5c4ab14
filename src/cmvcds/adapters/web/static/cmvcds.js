// cmvcds pages: the few behaviours that need script, kept out of the HTML so that a strict
// Content-Security-Policy (script-src 'self') holds. Everything works without it except Copy.
"use strict";
document.addEventListener("click", function (event) {
  var button = event.target.closest ? event.target.closest("button[data-copy], button[data-print]") : null;
  if (!button) return;
  if (button.hasAttribute("data-print")) {
    window.print();
    return;
  }
  var source = document.querySelector(button.getAttribute("data-copy"));
  if (!source) return;
  var text = source.innerText.trim();
  var done = function () {
    button.textContent = "Copied";
    window.setTimeout(function () { button.textContent = "Copy"; }, 2000);
  };
  var bySelection = function () {
    var range = document.createRange();
    range.selectNodeContents(source);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    var copied = document.execCommand("copy");
    selection.removeAllRanges();
    if (copied) done();
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(done, bySelection);
  } else {
    bySelection();
  }
});
