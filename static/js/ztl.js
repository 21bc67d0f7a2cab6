// Our own small behaviours, loaded as a file: the Content-Security-Policy forbids inline scripts.
(function () {
  "use strict";
  // After a failed submission, move focus to the first error message (the error summary, or the
  // alert that explains a refused sign-in) so that keyboard and screen reader users start there.
  var firstError = document.querySelector("main .alert-danger, main .invalid-feedback.d-block");
  if (firstError) {
    firstError.setAttribute("tabindex", "-1");
    firstError.focus();
  }
})();
