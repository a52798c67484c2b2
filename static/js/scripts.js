// 盘图 stage scripts: copy a ready script to the clipboard for pasting into WeChat.
(function () {
  "use strict";

  function fallbackCopy(text) {
    // Plain-http store networks and older tablets have no Clipboard API: copy from a scratch field.
    var scratch = document.createElement("textarea");
    scratch.value = text;
    scratch.setAttribute("readonly", "");
    scratch.style.position = "fixed";
    scratch.style.top = "-1000px";
    document.body.appendChild(scratch);
    scratch.select();
    var copied = false;
    try { copied = document.execCommand("copy"); } catch (e) { copied = false; }
    document.body.removeChild(scratch);
    return copied;
  }

  function say(button, text) {
    var original = button.getAttribute("data-label") || button.textContent;
    button.setAttribute("data-label", original);
    button.textContent = text;
    window.setTimeout(function () { button.textContent = original; }, 2000);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var scope = button.closest("form, .copy-scope");
    var source = scope && scope.querySelector("[data-copy-source]");
    if (!source) return;
    var text = source.value !== undefined ? source.value : source.textContent;
    var done = function () { say(button, button.getAttribute("data-copied")); };
    var failed = function () {
      if (fallbackCopy(text)) done(); else say(button, button.getAttribute("data-copy-failed"));
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, failed);
    } else {
      failed();
    }
  });
})();
