// Settings read by the Bootstrap Italia bundle when it loads, so this file comes before it.
// The bundle includes video.js, which otherwise adds a <style> element to every page: the
// Content-Security-Policy (style-src 'self') blocks it and the browser reports a violation. The
// service shows no video, so those default player styles are not needed.
window.VIDEOJS_NO_DYNAMIC_STYLE = true;
