// The police seal verifier page: wiring between the form, the camera, the lists and the verifier.
//
// Everything the page shows is built with textContent (never innerHTML): a seal's contents are
// signed, but the text typed or scanned before verification is not, and must not become markup.
// The words come from the template (data-messages), so the page speaks the user's language.
// The zones' calendars come from the template too (data-calendar): the window step asks them.

import { Activity } from "./calendar.js";
import { dateText, timeText, validityText } from "./display.js";
import { refreshLists } from "./lists.js";
import { Scanner } from "./scanner.js";
import { normalisePlate, verifySeal } from "./verify.js";

const app = document.getElementById("seal-app");
if (app) {
  main(app);
}

function main(root) {
  const config = root.dataset;
  const messages = JSON.parse(config.messages || "{}");
  const lang = config.lang || document.documentElement.lang || "it";
  const timeZone = config.timezone || "Europe/Rome";
  const validityWords = JSON.parse(config.validity || "{}");
  const calendar = readCalendar(config.calendar);
  const t = (key, values = {}) =>
    (messages[key] || key).replace(/\{(\w+)\}/g, (whole, name) =>
      name in values ? String(values[name]) : whole,
    );
  // Instants as every page writes them: "02/12/2026 09:05" on the municipality's clock.
  const when = {
    format: (instant) => {
      const seconds = Math.floor(new Date(instant).getTime() / 1000);
      return `${dateText(seconds, timeZone)} ${timeText(seconds, timeZone)}`;
    },
  };
  const relative = new Intl.RelativeTimeFormat(lang, { numeric: "auto" });

  const form = document.getElementById("seal-form");
  const textArea = document.getElementById("seal-text");
  const zoneSelect = document.getElementById("seal-zone");
  const plateInput = document.getElementById("seal-plate");
  const result = document.getElementById("seal-result");
  const listsBox = document.getElementById("seal-lists");
  const offlineStatus = document.getElementById("seal-offline");
  const cameraStatus = document.getElementById("seal-camera-status");
  const startButton = document.getElementById("seal-camera-start");
  const stopButton = document.getElementById("seal-camera-stop");
  const video = document.getElementById("seal-video");

  let lists = { trust: null, revocations: null };
  let listsReady = loadLists();
  let verified = false; // a result is shown: changing zone or plate verifies again
  let run = 0; // only the latest verification may write the result

  // --- small DOM helpers ---------------------------------------------------------------------------

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined) {
      node.textContent = text;
    }
    return node;
  }

  function definitionList(rows) {
    const list = element("dl", "row mb-0");
    for (const [term, value] of rows) {
      list.appendChild(element("dt", "col-sm-5", term));
      list.appendChild(element("dd", "col-sm-7", value));
    }
    return list;
  }

  function age(date, now = new Date()) {
    const seconds = Math.round((date.getTime() - now.getTime()) / 1000);
    const steps = [
      ["day", 86400],
      ["hour", 3600],
      ["minute", 60],
    ];
    for (const [unit, size] of steps) {
      if (Math.abs(seconds) >= size) {
        return relative.format(Math.round(seconds / size), unit);
      }
    }
    return relative.format(0, "minute");
  }

  // --- lists ---------------------------------------------------------------------------------------

  async function loadLists() {
    listsBox.dataset.state = "loading";
    const state = await refreshLists({
      rootSpki: config.rootSpki,
      trustUrl: config.trustUrl,
      revocationsUrl: config.revocationsUrl,
    });
    lists = state;
    renderLists(state);
    return state;
  }

  function listCard(title, list, extra) {
    const card = element("div", "col-12 col-md-6 mb-3");
    const box = element("div", "border rounded p-3 h-100");
    box.appendChild(element("h3", "h5", title));
    if (!list) {
      box.appendChild(element("p", "mb-0", t("missing")));
      card.appendChild(box);
      return card;
    }
    const rows = [
      element("li", "", t("fetched_at", { at: when.format(list.fetchedAt), age: age(list.fetchedAt) })),
      element("li", "", t("issued_at", { at: when.format(list.issuedAt) })),
      element("li", "", t("next_update", { at: when.format(list.nextUpdate) })),
      ...extra.map((text) => element("li", "", text)),
    ];
    const items = element("ul", "list-unstyled mb-0");
    rows.forEach((row) => items.appendChild(row));
    box.appendChild(items);
    if (list.nextUpdate.getTime() < Date.now()) {
      const warning = element("p", "alert alert-warning mt-3 mb-0", t("stale", { at: when.format(list.nextUpdate) }));
      warning.dataset.stale = "true";
      box.appendChild(warning);
    }
    card.appendChild(box);
    return card;
  }

  function renderLists(state) {
    listsBox.replaceChildren();
    listsBox.appendChild(
      element("p", state.online ? "text-success" : "alert alert-info", t(state.online ? "lists_online" : "lists_offline")),
    );
    for (const note of state.notes) {
      const key = `note_${note.code}`;
      if (messages[key]) {
        listsBox.appendChild(element("p", "alert alert-warning", t(key, note)));
      }
      if (note.detail) {
        console.warn("seal lists:", note.code, note.detail);
      }
    }
    if (!state.trust || !state.revocations) {
      listsBox.appendChild(element("p", "alert alert-danger", t("no_lists")));
    }
    const row = element("div", "row");
    row.appendChild(
      listCard(t("trust_list"), state.trust, state.trust ? [t("keys_count", { n: state.trust.sealKeys.size })] : []),
    );
    row.appendChild(
      listCard(
        t("revocation_list"),
        state.revocations,
        state.revocations
          ? [t("sequence", { n: state.revocations.sequence }), t("revoked_count", { n: state.revocations.count })]
          : [],
      ),
    );
    listsBox.appendChild(row);
    listsBox.dataset.state = state.trust && state.revocations ? "ready" : "missing";
    listsBox.dataset.online = state.online ? "true" : "false";
    listsBox.dataset.sequence = state.revocations ? String(state.revocations.sequence) : "";
  }

  // --- verification --------------------------------------------------------------------------------

  // `mine` is the run that produced the answer: an answer that a newer run overtook is dropped.
  // `zone`: what the zone's calendar said ({inactive, calendar}), for tests and styles to read.
  function showResult(mine, state, step, children, zone = { inactive: false, calendar: null }) {
    if (mine !== run) {
      return;
    }
    result.replaceChildren();
    // New nodes each time, in the next frame: screen readers announce even a repeated answer.
    window.requestAnimationFrame(() => {
      if (mine === run) {
        children.forEach((child) => result.appendChild(child));
        result.dataset.step = step || "";
        result.dataset.zoneInactive = zone.inactive ? "true" : "false";
        result.dataset.calendar = zone.calendar || "";
        result.dataset.state = state;
        // On a phone the answer is below the form: bring it into view (focus stays where it is).
        const box = result.getBoundingClientRect();
        if (box.top > window.innerHeight || box.bottom < 0) {
          result.scrollIntoView({ block: "start" });
        }
      }
    });
  }

  function reasonFor(outcome, zone, plate) {
    if (outcome.valid) {
      return t(outcome.zoneInactive ? "valid_zone_inactive" : "valid_reason", { zone });
    }
    const windows = outcome.claims ? outcome.claims.windows.join(", ") : "";
    return t(`step_${outcome.step}`, { zone, plate, windows });
  }

  function details(claims, kid) {
    const windows = claims.windows.length ? claims.windows.join(", ") : t("always");
    return definitionList([
      [t("permit_number"), claims.permitNumber],
      [t("category"), claims.category],
      [t("plates"), claims.plates.join(", ")],
      [t("zones"), claims.zones.join(", ")],
      [t("windows"), windows],
      [t("validity"), validityText(claims.validFrom, claims.validTo, timeZone, validityWords)],
      [t("issuer"), claims.issuer],
      [t("signing_key"), kid],
    ]);
  }

  async function verifyNow() {
    const text = textArea.value.trim();
    const mine = (run += 1);
    if (!text) {
      showResult(mine, "empty", "", [element("p", "alert alert-warning", t("empty_text"))]);
      return;
    }
    result.dataset.state = "verifying";
    result.dataset.step = "";
    const state = await listsReady;
    if (mine !== run) {
      return;
    }
    if (!state.trust || !state.revocations) {
      showResult(mine, "unavailable", "", [element("p", "alert alert-danger", t("no_lists"))]);
      return;
    }
    const at = new Date();
    const zone = zoneSelect.value || null;
    const plate = normalisePlate(plateInput.value) || null;
    const outcome = await verifySeal(text, state.trust, state.revocations, {
      at,
      zone,
      plate,
      timeZone,
      calendar,
    });
    if (mine !== run) {
      return;
    }
    if (outcome.detail && !outcome.valid) {
      console.info("seal refused:", outcome.step, outcome.detail);
    }
    verified = true;
    const banner = element("div", `alert ${outcome.valid ? "alert-success" : "alert-danger"} mb-3`);
    // Bootstrap Italia's alert-success / alert-danger draw their own icon beside the text.
    banner.appendChild(element("p", "h2 mb-2", t(outcome.valid ? "valid" : "invalid")));
    banner.appendChild(element("p", "mb-1 fw-semibold", reasonFor(outcome, zone, plate)));
    if (!outcome.valid && outcome.zoneInactive) {
      // Refused for its plate, but the zone needs no permit now: the officer should know both.
      banner.appendChild(element("p", "mb-1", t("zone_inactive", { zone })));
    }
    if (outcome.calendar === Activity.UNAVAILABLE) {
      banner.appendChild(element("p", "mb-1", t("calendar_unavailable", { zone })));
    }
    if (!outcome.valid) {
      banner.appendChild(element("p", "small mb-1", t("failed_step", { step: outcome.step })));
    }
    banner.appendChild(element("p", "small mb-0", t("checked_at", { at: when.format(at) })));
    if ([state.trust, state.revocations].some((list) => list.nextUpdate.getTime() < at.getTime())) {
      banner.appendChild(element("p", "small fw-semibold mt-2 mb-0", t("result_stale")));
    }
    const children = [banner];
    if (outcome.claims) {
      children.push(details(outcome.claims, outcome.kid));
    }
    showResult(mine, outcome.valid ? "valid" : "invalid", outcome.step, children, {
      inactive: outcome.zoneInactive,
      calendar: outcome.calendar,
    });
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    verifyNow();
  });
  form.addEventListener("reset", () => {
    run += 1;
    verified = false;
    showResult(run, "empty", "", []);
  });
  // A keyboard-wedge scanner types the text and presses Enter: Enter verifies, Shift+Enter is a newline.
  textArea.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      verifyNow();
    }
  });
  textArea.addEventListener("paste", () => window.setTimeout(verifyNow, 0));
  zoneSelect.addEventListener("change", () => verified && verifyNow());
  plateInput.addEventListener("change", () => verified && verifyNow());
  plateInput.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      verifyNow();
    }
  });
  document.getElementById("seal-lists-refresh").addEventListener("click", () => {
    listsReady = loadLists();
  });

  // --- camera --------------------------------------------------------------------------------------

  const scanner = new Scanner({
    video,
    canvas: document.getElementById("seal-canvas"),
    jsQRUrl: config.jsqrUrl,
    onText(text) {
      cameraOff("camera_read");
      textArea.value = text;
      verifyNow();
    },
  });

  function cameraOff(messageKey) {
    scanner.stop();
    video.classList.add("d-none");
    stopButton.classList.add("d-none");
    startButton.classList.remove("d-none");
    cameraStatus.textContent = t(messageKey);
    startButton.focus();
  }

  startButton.addEventListener("click", async () => {
    cameraStatus.textContent = t("camera_starting");
    video.classList.remove("d-none");
    try {
      await scanner.start();
    } catch (error) {
      cameraOff(`camera_${error.code || "failed"}`);
      return;
    }
    if (!scanner.running) {
      return; // the first frame already held the code: onText has turned the camera off
    }
    startButton.classList.add("d-none");
    stopButton.classList.remove("d-none");
    stopButton.focus();
    cameraStatus.textContent = t("camera_on");
  });
  stopButton.addEventListener("click", () => cameraOff("camera_stopped"));
  window.addEventListener("pagehide", () => scanner.stop());

  // --- offline -------------------------------------------------------------------------------------

  setUpOffline().catch((error) => {
    console.warn("service worker:", error);
    setOffline("failed");
  });

  function setOffline(state) {
    offlineStatus.dataset.state = state;
    offlineStatus.textContent = t(`offline_${state}`);
  }

  function ask(worker, message, timeoutMs = 60000) {
    return new Promise((resolve, reject) => {
      const channel = new MessageChannel();
      const timer = window.setTimeout(() => reject(new Error("no answer")), timeoutMs);
      channel.port1.addEventListener("message", (event) => {
        window.clearTimeout(timer);
        resolve(event.data || {});
      });
      channel.port1.start();
      worker.postMessage(message, [channel.port2]);
    });
  }

  // What this page loaded from its own origin (stylesheets, scripts, modules, fonts, icons), for the
  // worker to keep; the lists are not among them (they live in localStorage, see lists.js).
  function ownResources() {
    const urls = new Set([window.location.href.split("#")[0], new URL(config.jsqrUrl, window.location.href).href]);
    for (const entry of performance.getEntriesByType("resource")) {
      urls.add(entry.name);
    }
    document.querySelectorAll("script[src], link[rel=stylesheet][href]").forEach((node) => {
      urls.add(new URL(node.getAttribute("src") || node.getAttribute("href"), window.location.href).href);
    });
    return Array.from(urls).filter((raw) => {
      const url = new URL(raw);
      return url.origin === window.location.origin && !url.pathname.startsWith("/.well-known/");
    });
  }

  async function setUpOffline() {
    if (!("serviceWorker" in navigator)) {
      setOffline("unsupported");
      return;
    }
    const container = navigator.serviceWorker;
    try {
      await container.register(config.swUrl, { scope: config.swScope });
    } catch (error) {
      // Offline, the update check of an existing registration fails; the installed worker still serves.
      if (!container.controller) {
        throw error;
      }
    }
    await container.ready;
    if (!container.controller) {
      await new Promise((resolve) => container.addEventListener("controllerchange", resolve, { once: true }));
    }
    const answer = await ask(container.controller, { type: "cache-urls", urls: ownResources() });
    setOffline(answer.pageCached ? "ready" : "failed");
  }
}

// The calendars the page carries; null (only the permit's hours decide) when missing or unreadable.
function readCalendar(text) {
  if (!text) {
    return null;
  }
  try {
    const calendar = JSON.parse(text);
    return calendar && typeof calendar.zones === "object" ? calendar : null;
  } catch (error) {
    console.warn("zone calendars unreadable:", error);
    return null;
  }
}
