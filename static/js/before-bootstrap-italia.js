// Loads the Bootstrap Italia bundle when it is first needed, with the settings it reads first.
//
// The pages use the bundle (about 250 KB compressed, 1 MB for a phone to parse) for one thing: the
// collapsible menu of the signed-in areas, which on a small screen opens from the menu button (on
// a large one the menu is always shown, by the stylesheet alone). Labels are rendered above their
// fields already. So the bundle is fetched when the menu button is first pressed (or touched, or
// given focus, to start a little sooner); once it has run, that first press is replayed and the
// bundle's own handler, which listens on the document, opens the menu from then on.
//
// The bundle includes video.js, which otherwise adds a <style> element to every page: the
// Content-Security-Policy (style-src 'self') blocks it and the browser reports a violation. The
// service shows no video, so those default player styles are not needed.
(function () {
  "use strict";
  window.VIDEOJS_NO_DYNAMIC_STYLE = true;
  var me = document.currentScript;
  var bundle = me && me.getAttribute("data-bundle");
  var TOGGLE = '[data-bs-toggle="navbarcollapsible"]';
  if (!bundle) {
    return;
  }
  var requested = false;
  var loaded = false;
  var pressed = null;

  function toggleOf(event) {
    var target = event.target;
    return target && target.closest ? target.closest(TOGGLE) : null;
  }

  function load() {
    if (requested) {
      return;
    }
    requested = true;
    var script = document.createElement("script");
    script.src = bundle;
    script.onload = function () {
      loaded = true;
      document.removeEventListener("click", onClick, true);
      if (pressed) {
        var button = pressed;
        pressed = null;
        button.click();
      }
    };
    script.onerror = function () {
      requested = false; // offline for now: the next press tries again
    };
    document.head.appendChild(script);
  }

  function onClick(event) {
    var toggle = toggleOf(event);
    if (!toggle || loaded) {
      return;
    }
    event.preventDefault();
    event.stopPropagation();
    pressed = toggle;
    load();
  }

  function onEarly(event) {
    if (toggleOf(event)) {
      load();
    }
  }

  document.addEventListener("click", onClick, true);
  document.addEventListener("pointerdown", onEarly, true);
  document.addEventListener("focusin", onEarly, true);
})();
