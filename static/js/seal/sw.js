// Service worker of the police seal verifier (served as /polizia/sigillo/sw.js, scope /polizia/sigillo/).
//
// Why: an officer opens the verifier once with a connection, then must be able to open it again in
// a street with none. The worker keeps the page and what it loaded from this origin (styles,
// scripts, fonts, icons, jsQR) in the Cache Storage and answers from there when the network fails.
//
// Network first, cache as the fallback, for the page and its assets: online, the server's answer
// always wins (a signed-out officer is sent to the sign-in page, a new version of a script is used at
// once); a network that fails or hangs longer than NETWORK_TIMEOUT_MS falls back to the cached copy.
// When the server refuses the page (sign-in redirect, 403), the cached copy is deleted.
// The trust and revocation lists (/.well-known/ztl/) are not touched here: the page fetches them
// itself, network first, and keeps the verified envelopes in localStorage (lists.js).

// v3: the verifier gained display.js (validity written as the server writes it); v2 gained
// calendar.js (zone calendars). Each new name drops the older copies on activation.
const CACHE = "ztl-seal-v3";
const NETWORK_TIMEOUT_MS = 4000;
const SCOPE_URL = self.registration.scope;
const SCOPE_PATH = new URL(SCOPE_URL).pathname;
const LISTS_PATH = "/.well-known/ztl/";
// The verifier's modules (static/js/seal/), kept next to the page.js the page reports even when the
// browser's resource timing missed one of them: without any one of them the page cannot start.
const MODULES = [
  "base45.js",
  "bytes.js",
  "calendar.js",
  "cbor.js",
  "display.js",
  "lists.js",
  "page.js",
  "scanner.js",
  "verify.js",
];
const PAGE_MODULE = "/js/seal/page.js";

function cacheable(response) {
  return (
    response &&
    response.status === 200 &&
    response.type === "basic" &&
    !response.redirected
  );
}

function refused(response) {
  return (
    response.type === "opaqueredirect" ||
    response.redirected ||
    response.status === 401 ||
    response.status === 403
  );
}

function sameOrigin(url) {
  return url.origin === self.location.origin;
}

// Every verifier module beside a reported page.js, then the reported URLs, each once.
function withModules(urls) {
  const all = new Map();
  for (const url of urls) {
    if (url.pathname.endsWith(PAGE_MODULE)) {
      for (const name of MODULES) {
        const module = new URL(name, url);
        all.set(module.href, module);
      }
    }
  }
  for (const url of urls) {
    all.set(url.href, url);
  }
  return Array.from(all.values());
}

function timeout(ms) {
  return new Promise((resolve, reject) => {
    setTimeout(() => reject(new Error("network timeout")), ms);
  });
}

async function fetchPage(cache) {
  const request = new Request(SCOPE_URL, { credentials: "same-origin", cache: "no-store" });
  const response = await fetch(request);
  if (cacheable(response)) {
    await cache.put(SCOPE_URL, response);
  } else if (refused(response)) {
    await cache.delete(SCOPE_URL);
  }
}

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      await fetchPage(cache).catch(() => {});
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith("ztl-seal-") && name !== CACHE) {
          await caches.delete(name);
        }
      }
      await self.clients.claim();
    })(),
  );
});

// The page sends the URLs it loaded, to which the verifier's modules are added (MODULES); those not
// kept yet are fetched and kept (the first load happens before this worker controls the page, so the
// fetch handler did not see them). The answer says whether the page itself is now in the cache,
// which is what "ready for offline use" means.
self.addEventListener("message", (event) => {
  const data = event.data || {};
  const port = event.ports && event.ports[0];
  if (data.type !== "cache-urls" || !Array.isArray(data.urls) || !port) {
    return;
  }
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      if (!(await cache.match(SCOPE_URL))) {
        await fetchPage(cache).catch(() => {});
      }
      const reported = data.urls
        .map((raw) => {
          try {
            return new URL(String(raw), self.location.href);
          } catch (error) {
            return null;
          }
        })
        .filter(Boolean);
      const assets = withModules(reported)
        .filter((url) => sameOrigin(url) && url.pathname !== SCOPE_PATH)
        .filter((url) => !url.pathname.startsWith(LISTS_PATH))
        .slice(0, 200);
      const stored = await Promise.all(
        assets.map(async (url) => {
          if (await cache.match(url.href)) {
            return true; // kept fresh by the fetch handler whenever the page loads it
          }
          try {
            const response = await fetch(url.href, { credentials: "same-origin" });
            if (!cacheable(response)) {
              return false;
            }
            await cache.put(url.href, response);
            return true;
          } catch (error) {
            return false;
          }
        }),
      );
      const pageCached = Boolean(await cache.match(SCOPE_URL));
      port.postMessage({ type: "cached", pageCached, assets: stored.filter(Boolean).length });
    })(),
  );
});

async function fromNetworkOrCache(request, cacheKey, isPage) {
  const cache = await caches.open(CACHE);
  const network = fetch(request).then(async (response) => {
    if (cacheable(response)) {
      await cache.put(cacheKey, response.clone());
    } else if (isPage && refused(response)) {
      await cache.delete(cacheKey);
    }
    return response;
  });
  try {
    return await Promise.race([network, timeout(NETWORK_TIMEOUT_MS)]);
  } catch (error) {
    const cached = await cache.match(cacheKey);
    if (cached) {
      return cached;
    }
    try {
      return await network; // slow but alive, and nothing cached: wait for it
    } catch (networkError) {
      return Response.error();
    }
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") {
    return;
  }
  const url = new URL(request.url);
  if (!sameOrigin(url) || url.pathname.startsWith(LISTS_PATH)) {
    return; // the lists: network only here, the page falls back to localStorage
  }
  if (request.mode === "navigate") {
    if (url.pathname === SCOPE_PATH) {
      event.respondWith(fromNetworkOrCache(request, SCOPE_URL, true));
    }
    return;
  }
  event.respondWith(fromNetworkOrCache(request, request.url, false));
});
