// Our own small behaviours, loaded as a file (the Content-Security-Policy forbids inline scripts).
(function () {
  "use strict";
  // Move focus to the first error message so that screen readers announce it after a failed submit.
  var firstError = document.querySelector(".alert-danger, .invalid-feedback.d-block");
  if (firstError) {
    firstError.setAttribute("tabindex", "-1");
    firstError.focus();
  }
})();
