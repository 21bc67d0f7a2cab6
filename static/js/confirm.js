// Confirmation dialogs before irreversible actions (templates/macros/confirm.html). Loaded as a
// file: the Content-Security-Policy forbids inline scripts. Each link marked data-ztl-confirm leads
// to a confirmation page; with this script it opens the modal <dialog> of the same id instead,
// which holds the same explanation and the same confirming form. showModal() makes the rest of the
// page inert; Tab and Shift+Tab are also kept inside here so focus never leaves the dialog, Escape
// closes it (the browser's "cancel"), and focus goes back to the link that opened it.
(function () {
  "use strict";
  var FOCUSABLE = 'a[href], button:not([disabled]), input:not([type="hidden"]):not([disabled]), ' +
    'select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

  function focusables(dialog) {
    return Array.prototype.slice.call(dialog.querySelectorAll(FOCUSABLE));
  }

  function trapTab(dialog, event) {
    if (event.key !== "Tab") {
      return;
    }
    var items = focusables(dialog);
    if (!items.length) {
      return;
    }
    var first = items[0];
    var last = items[items.length - 1];
    if (event.shiftKey && document.activeElement === first) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first.focus();
    }
  }

  function wire(trigger) {
    var dialog = document.getElementById(trigger.getAttribute("data-ztl-confirm"));
    if (!dialog || typeof dialog.showModal !== "function") {
      return; // no dialog support: the link opens the confirmation page
    }
    trigger.setAttribute("role", "button");
    trigger.setAttribute("aria-haspopup", "dialog");
    trigger.setAttribute("aria-controls", dialog.id);
    function open(event) {
      event.preventDefault();
      dialog.showModal();
      var items = focusables(dialog);
      // Start on the safe choice, "Annulla", so that Enter pressed by habit does not act.
      var cancel = dialog.querySelector("[data-ztl-dialog-close]");
      (cancel || items[0] || dialog).focus();
    }
    trigger.addEventListener("click", open);
    trigger.addEventListener("keydown", function (event) {
      if (event.key === " ") { // a button opens on Space too
        open(event);
      }
    });
    dialog.addEventListener("keydown", function (event) {
      trapTab(dialog, event);
    });
    dialog.addEventListener("close", function () {
      trigger.focus();
    });
    Array.prototype.forEach.call(dialog.querySelectorAll("[data-ztl-dialog-close]"), function (b) {
      b.addEventListener("click", function () {
        dialog.close();
      });
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-ztl-confirm]"), wire);
})();
