// The trust list and the revocation list: fetched from /.well-known/ztl/, verified with WebCrypto,
// kept in localStorage so that the page verifies seals with no network.
//
// Why verify here and again on every load: the lists are only as good as their signatures. The trust
// list must be signed by the municipality's root, whose public key the page pins (data-root-spki);
// the revocation list by the list-signing key that the trust list names. What localStorage holds is
// the raw envelope text, verified again when read, never trusted as it is. A revocation list with a
// lower sequence than the one already held is refused (seal-format.md): a replayed old list must
// not bring a revoked permit back to life.

import { base64Decode, base64UrlDecode, toHex, utf8Decode } from "./bytes.js";

export const FORMAT = "ztl-signed-json/1";
const MAX_LIST_CHARS = 8 * 1024 * 1024;
const ECDSA_P256 = { name: "ECDSA", namedCurve: "P-256" };
const ECDSA_SHA256 = { name: "ECDSA", hash: "SHA-256" };
const KID = /^[0-9a-f]{16}$/;
const STORAGE = { trust: "ztl.seal.trust-list", revocations: "ztl.seal.revocations" };

export class ListError extends Error {
  // code: "malformed", "signature", "type" or "older" (the page words each one)
  constructor(code, detail) {
    super(detail || code);
    this.code = code;
  }
}

export function importSpki(spkiBase64) {
  return crypto.subtle.importKey("spki", base64Decode(spkiBase64), ECDSA_P256, false, ["verify"]);
}

function instant(value) {
  const parsed = typeof value === "string" ? new Date(value) : new Date(NaN);
  if (Number.isNaN(parsed.getTime())) {
    throw new ListError("malformed", "a time in the list is not ISO 8601");
  }
  return parsed;
}

// The payload of a signed envelope, after checking the signature over its bytes as received.
export async function openEnvelope(text, publicKey) {
  if (typeof text !== "string" || text.length > MAX_LIST_CHARS) {
    throw new ListError("malformed", "list larger than 8 MiB");
  }
  let body;
  let signature;
  try {
    const envelope = JSON.parse(text);
    if (!envelope || envelope.format !== FORMAT || envelope.alg !== "ES256") {
      throw new ListError("malformed", `not a ${FORMAT} ES256 envelope`);
    }
    body = base64UrlDecode(envelope.payload);
    signature = base64UrlDecode(envelope.signature);
  } catch (error) {
    throw error instanceof ListError ? error : new ListError("malformed", error.message);
  }
  if (signature.length !== 64) {
    throw new ListError("signature", "the signature is not 64 bytes");
  }
  if (!(await crypto.subtle.verify(ECDSA_SHA256, publicKey, signature, body))) {
    throw new ListError("signature", "the list's signature does not match");
  }
  let payload;
  try {
    payload = JSON.parse(utf8Decode(body));
  } catch (error) {
    throw new ListError("malformed", "the signed payload is not JSON");
  }
  if (!payload || typeof payload !== "object" || Array.isArray(payload)) {
    throw new ListError("malformed", "the signed payload is not a JSON object");
  }
  return payload;
}

async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}

async function keyEntry(entry) {
  if (!entry || typeof entry.kid !== "string" || !KID.test(entry.kid)) {
    throw new ListError("malformed", "a kid in the trust list is malformed");
  }
  // kid = first 8 bytes of SHA-256(certificate DER): the entry's kid must name its certificate.
  const certificate = base64Decode(entry.certificate);
  if (toHex((await sha256(certificate)).subarray(0, 8)) !== entry.kid) {
    throw new ListError("malformed", "a kid in the trust list does not match its certificate");
  }
  return [entry.kid, await importSpki(entry.public_key)];
}

export async function loadTrustList(text, rootKey) {
  const payload = await openEnvelope(text, rootKey);
  if (payload.type !== "trust-list") {
    throw new ListError("type", "this is not a trust list");
  }
  try {
    if (!Array.isArray(payload.seal_keys)) {
      throw new ListError("malformed", "seal_keys is not a list");
    }
    const sealKeys = new Map(await Promise.all(payload.seal_keys.map(keyEntry)));
    const [signerKid, listSigner] = await keyEntry(payload.list_signer);
    return {
      text,
      issuer: String(payload.issuer),
      issuedAt: instant(payload.issued_at),
      nextUpdate: instant(payload.next_update),
      sealKeys,
      listSigner,
      listSignerKid: signerKid,
    };
  } catch (error) {
    throw error instanceof ListError ? error : new ListError("malformed", error.message);
  }
}

export async function loadRevocationList(text, trust, heldSequence = null) {
  const payload = await openEnvelope(text, trust.listSigner);
  if (payload.type !== "revocations") {
    throw new ListError("type", "this is not a revocation list");
  }
  const sequence = payload.sequence;
  if (!Number.isSafeInteger(sequence) || sequence < 0) {
    throw new ListError("malformed", "the sequence is not a whole number");
  }
  const revoked = new Map();
  try {
    for (const [kid, handles] of Object.entries(payload.revoked)) {
      if (!Array.isArray(handles)) {
        throw new ListError("malformed", "revoked handles are not a list");
      }
      revoked.set(kid.toLowerCase(), new Set(handles.map((h) => String(h).toLowerCase())));
    }
  } catch (error) {
    throw error instanceof ListError ? error : new ListError("malformed", error.message);
  }
  const result = {
    text,
    issuer: String(payload.issuer),
    sequence,
    issuedAt: instant(payload.issued_at),
    nextUpdate: instant(payload.next_update),
    revoked,
    count: Array.from(revoked.values()).reduce((sum, handles) => sum + handles.size, 0),
  };
  if (heldSequence !== null && sequence < heldSequence) {
    throw new ListError(
      "older",
      `revocation list ${sequence} is older than the one already held (${heldSequence})`,
    );
  }
  return result;
}

// --- the cache -----------------------------------------------------------------------------------

function readCache(name) {
  try {
    const value = JSON.parse(window.localStorage.getItem(STORAGE[name]) || "null");
    if (value && typeof value.text === "string" && typeof value.fetchedAt === "string") {
      return value;
    }
  } catch (error) {
    // unreadable or unavailable storage: as if nothing were cached
  }
  return null;
}

function writeCache(name, text, fetchedAt) {
  try {
    window.localStorage.setItem(
      STORAGE[name],
      JSON.stringify({ text, fetchedAt: fetchedAt.toISOString() }),
    );
    return true;
  } catch (error) {
    return false; // storage full or disabled: the lists still serve this page load
  }
}

async function fetchText(url) {
  // no-store: a list from the HTTP cache could be older than the one the server has now.
  const response = await fetch(url, { cache: "no-store", credentials: "same-origin" });
  if (!response.ok) {
    throw new Error(`HTTP ${response.status}`);
  }
  return response.text();
}

/**
 * The lists to verify with: the cached ones (verified again), replaced by fresh ones from the
 * network when it answers and they verify. Never throws; `notes` says what happened, each with a
 * code the page words: cached_trust_refused, trust_refused, trust_unavailable,
 * cached_revocations_refused, revocations_refused, revocations_older, revocations_unavailable,
 * storage_failed.
 */
export async function refreshLists({ rootSpki, trustUrl, revocationsUrl, now = new Date() }) {
  const notes = [];
  const state = { trust: null, revocations: null, online: false, notes };
  let rootKey;
  try {
    rootKey = await importSpki(rootSpki);
  } catch (error) {
    notes.push({ code: "root_unusable", detail: error.message });
    return state;
  }
  const cachedTrust = readCache("trust");
  if (cachedTrust) {
    try {
      state.trust = await loadTrustList(cachedTrust.text, rootKey);
      state.trust.fetchedAt = instant(cachedTrust.fetchedAt);
    } catch (error) {
      notes.push({ code: "cached_trust_refused", detail: error.message });
    }
  }
  let trustText = null;
  try {
    trustText = await fetchText(trustUrl);
    state.online = true;
  } catch (error) {
    notes.push({ code: "trust_unavailable", detail: error.message });
  }
  if (trustText !== null) {
    try {
      const fresh = await loadTrustList(trustText, rootKey);
      fresh.fetchedAt = now;
      state.trust = fresh;
      if (!writeCache("trust", trustText, now)) {
        notes.push({ code: "storage_failed" });
      }
    } catch (error) {
      notes.push({ code: "trust_refused", detail: error.message });
    }
  }
  if (!state.trust) {
    return state;
  }
  const cachedRevocations = readCache("revocations");
  if (cachedRevocations) {
    try {
      state.revocations = await loadRevocationList(cachedRevocations.text, state.trust);
      state.revocations.fetchedAt = instant(cachedRevocations.fetchedAt);
    } catch (error) {
      notes.push({ code: "cached_revocations_refused", detail: error.message });
    }
  }
  let revocationsText = null;
  if (state.online) {
    try {
      revocationsText = await fetchText(revocationsUrl);
    } catch (error) {
      state.online = false;
      notes.push({ code: "revocations_unavailable", detail: error.message });
    }
  }
  if (revocationsText !== null) {
    const held = state.revocations ? state.revocations.sequence : null;
    try {
      const fresh = await loadRevocationList(revocationsText, state.trust, held);
      fresh.fetchedAt = now;
      state.revocations = fresh;
      if (!writeCache("revocations", revocationsText, now)) {
        notes.push({ code: "storage_failed" });
      }
    } catch (error) {
      const code = error.code === "older" ? "revocations_older" : "revocations_refused";
      notes.push({ code, detail: error.message, held });
    }
  }
  return state;
}
