// Keyboard shortcuts for the review pages; everything also works with plain buttons and JavaScript off.
// a accept · r reject · d defer · s skip · u undo: each presses the button carrying that data-key.
(function () {
  "use strict";
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
    var target = event.target;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
    var key = (event.key || "").toLowerCase();
    if (!/^[ardsu]$/.test(key)) return;
    var button = document.querySelector('button[data-key="' + key + '"]');
    if (!button || button.disabled) return;
    event.preventDefault();
    button.disabled = true;  // one key press, one decision
    var form = button.form;
    if (form && form.requestSubmit) { button.disabled = false; form.requestSubmit(button); }
    else { button.disabled = false; button.click(); }
  });
})();
