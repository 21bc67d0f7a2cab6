// Reading the QR code with the phone's camera: the browser's BarcodeDetector where it has one
// (Chrome on Android), otherwise jsQR (vendored in static/vendor/jsqr, loaded only when needed and
// cached by the service worker for offline use). Frames never leave the device.

const SCAN_INTERVAL_MS = 150;

async function nativeDetector() {
  if (!("BarcodeDetector" in window)) {
    return null;
  }
  try {
    const formats = await window.BarcodeDetector.getSupportedFormats();
    if (!formats.includes("qr_code")) {
      return null;
    }
    const detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    return async (video) => {
      const codes = await detector.detect(video);
      return codes.length ? codes[0].rawValue : null;
    };
  } catch (error) {
    return null;
  }
}

let jsQRLoading = null;

function loadJsQR(url) {
  if (window.jsQR) {
    return Promise.resolve(window.jsQR);
  }
  if (!jsQRLoading) {
    jsQRLoading = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = url;
      script.addEventListener("load", () => resolve(window.jsQR));
      script.addEventListener("error", () => {
        jsQRLoading = null;
        reject(new Error("jsQR could not be loaded"));
      });
      document.head.appendChild(script);
    });
  }
  return jsQRLoading;
}

async function jsQRDetector(url, canvas) {
  const jsQR = await loadJsQR(url);
  const context = canvas.getContext("2d", { willReadFrequently: true });
  return async (video) => {
    const width = video.videoWidth;
    const height = video.videoHeight;
    if (!width || !height) {
      return null;
    }
    canvas.width = width;
    canvas.height = height;
    context.drawImage(video, 0, 0, width, height);
    const image = context.getImageData(0, 0, width, height);
    const code = jsQR(image.data, width, height, { inversionAttempts: "attemptBoth" });
    return code ? code.data : null;
  };
}

/**
 * A camera scanner bound to a <video> and a hidden <canvas>.
 * onText(text) is called once with the first QR code read; the camera is then stopped.
 * Errors are thrown from start() with a `code`: "unsupported", "denied", "no_camera", "failed".
 */
export class Scanner {
  constructor({ video, canvas, jsQRUrl, onText }) {
    this.video = video;
    this.canvas = canvas;
    this.jsQRUrl = jsQRUrl;
    this.onText = onText;
    this.stream = null;
    this.timer = null;
  }

  get running() {
    return this.stream !== null;
  }

  async start() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      throw Object.assign(new Error("no getUserMedia"), { code: "unsupported" });
    }
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({
        video: { facingMode: { ideal: "environment" } },
        audio: false,
      });
    } catch (error) {
      const code =
        error.name === "NotAllowedError" || error.name === "SecurityError"
          ? "denied"
          : error.name === "NotFoundError" || error.name === "OverconstrainedError"
            ? "no_camera"
            : "failed";
      throw Object.assign(new Error(error.message), { code });
    }
    this.video.srcObject = this.stream;
    await this.video.play().catch(() => {});
    let detect;
    try {
      detect = (await nativeDetector()) || (await jsQRDetector(this.jsQRUrl, this.canvas));
    } catch (error) {
      this.stop();
      throw Object.assign(new Error(error.message), { code: "failed" });
    }
    const tick = async () => {
      if (!this.running) {
        return;
      }
      let text = null;
      try {
        text = await detect(this.video);
      } catch (error) {
        text = null; // a frame that cannot be read: try the next one
      }
      if (text && this.running) {
        this.stop();
        this.onText(text);
        return;
      }
      this.timer = window.setTimeout(tick, SCAN_INTERVAL_MS);
    };
    tick();
  }

  stop() {
    if (this.timer !== null) {
      window.clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.stream) {
      for (const track of this.stream.getTracks()) {
        track.stop();
      }
      this.stream = null;
    }
    this.video.srcObject = null;
  }
}
