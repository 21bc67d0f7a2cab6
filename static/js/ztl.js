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

// A file over the size limit is refused before it is sent: on a phone network, uploading 20 MB
// only to be told it is too large wastes minutes. The server checks again (and a file it refuses
// brings the person back to the same page with the reason): this only spares the wait.
(function () {
  "use strict";
  function tooLarge(input) {
    var max = Number(input.getAttribute("data-max-bytes"));
    return Array.prototype.some.call(input.files || [], function (file) {
      return file.size > max;
    });
  }
  function show(input) {
    var id = input.id + "-size-error";
    var message = document.getElementById(id);
    var described = (input.getAttribute("aria-describedby") || "").split(" ").filter(function (x) {
      return x && x !== id;
    });
    if (!tooLarge(input)) {
      if (message) { message.remove(); }
      input.classList.remove("is-invalid");
      input.removeAttribute("aria-invalid");
      input.setAttribute("aria-describedby", described.join(" "));
      return false;
    }
    if (!message) {
      message = document.createElement("div");
      message.id = id;
      message.className = "invalid-feedback d-block";
      message.setAttribute("role", "alert");
      input.insertAdjacentElement("afterend", message);
    }
    message.textContent = input.getAttribute("data-too-large");
    input.classList.add("is-invalid");
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", described.concat([id]).join(" "));
    return true;
  }
  document.querySelectorAll("input[type=file][data-max-bytes]").forEach(function (input) {
    input.addEventListener("change", function () { show(input); });
    if (input.form) {
      input.form.addEventListener("submit", function (event) {
        if (show(input)) {
          event.preventDefault();
          input.focus();
        }
      });
    }
  });
})();
