// Verifying a permit's seal in the browser, offline, in the order of seal-format.md and with the
// step names of ztl/signing/seal.py, so that this page, the API and `ztl verify` give the same answer:
// parse (inflated size capped) -> unknown_kid -> signature -> not_yet_valid / expired (5 minutes of
// clock tolerance) -> revoked -> zone -> window (the municipality's wall clock) -> plate.
//
// The window step asks the zone's calendar first (calendar.js), as seal.py does: when the check
// names a zone that is not restricted at the instant, no permit is needed there, the permit's hours
// do not matter and the step passes (zoneInactive). When the page's calendars do not cover the date, it
// cannot tell: only the permit's hours decide, and the result says the calendar was unavailable.
//
// verifySeal never throws for bad input: the result names the first step that failed.

import { b45decode } from "./base45.js";
import { toHex } from "./bytes.js";
import { Activity, wallClock, zoneActivity } from "./calendar.js";
import { CborTag, decodeCbor, sigStructure } from "./cbor.js";

export const Step = Object.freeze({
  PARSE: "parse",
  KID: "unknown_kid",
  SIGNATURE: "signature",
  NOT_YET_VALID: "not_yet_valid",
  EXPIRED: "expired",
  REVOKED: "revoked",
  ZONE: "zone",
  WINDOW: "window",
  PLATE: "plate",
});

export const PREFIX = "ZTL1:";
export const MAX_TEXT = 4096; // a version-11 QR holds far less
export const MAX_INFLATED = 16 * 1024; // zlib bombs: never inflate beyond this
export const CLOCK_TOLERANCE_MS = 5 * 60 * 1000;
const SCHEMA_VERSION = 1;
const CLAIM_ISS = 1;
const CLAIM_EXP = 4;
const CLAIM_NBF = 5;
const CLAIM_IAT = 6;
const CLAIM_CTI = 7;
const CLAIM_PERMIT = -65537;
const HEADER_ALG = 1;
const HEADER_KID = 4;
const ES256 = -7;
const SIGN1_TAG = 18;
// Instants Python's datetime can hold (years 1 to 9999): the same range is accepted here.
const MIN_EPOCH = -62135596800;
const MAX_EPOCH = 253402300799;
const ECDSA_P256 = { name: "ECDSA", hash: "SHA-256" };

class SealError extends Error {
  constructor(step, detail) {
    super(detail);
    this.step = step;
  }
}

// zlib (RFC 1950) inflation through the browser's DecompressionStream, stopping as soon as the
// output passes the cap: a few kilobytes of Base45 must not become megabytes in memory.
export async function inflate(data, limit = MAX_INFLATED) {
  let stream;
  try {
    stream = new DecompressionStream("deflate");
  } catch (error) {
    throw new SealError(Step.PARSE, "this browser cannot inflate zlib data");
  }
  const writer = stream.writable.getWriter();
  writer.write(data).catch(() => {});
  writer.close().catch(() => {});
  const reader = stream.readable.getReader();
  const chunks = [];
  let total = 0;
  for (;;) {
    let next;
    try {
      next = await reader.read();
    } catch (error) {
      throw new SealError(Step.PARSE, `not zlib data: ${error.message}`);
    }
    if (next.done) {
      break;
    }
    total += next.value.length;
    if (total > limit) {
      reader.cancel().catch(() => {});
      throw new SealError(Step.PARSE, `inflated seal larger than ${limit} bytes`);
    }
    chunks.push(next.value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

// COSE_Sign1: [protected bstr, unprotected map, payload bstr, signature bstr], optionally tag 18.
export function parseSign1(data) {
  let decoded;
  try {
    decoded = decodeCbor(data);
  } catch (error) {
    throw new SealError(Step.PARSE, `not CBOR: ${error.message}`);
  }
  if (decoded instanceof CborTag) {
    if (decoded.tag !== SIGN1_TAG) {
      throw new SealError(Step.PARSE, `CBOR tag ${decoded.tag} is not COSE_Sign1 (18)`);
    }
    decoded = decoded.value;
  }
  if (!Array.isArray(decoded) || decoded.length !== 4) {
    throw new SealError(Step.PARSE, "COSE_Sign1 must be an array of 4 items");
  }
  const [protectedBytes, unprotected, payload, signature] = decoded;
  if (!(protectedBytes instanceof Uint8Array) || !(payload instanceof Uint8Array)) {
    throw new SealError(Step.PARSE, "protected header and payload must be byte strings");
  }
  if (!(unprotected instanceof Map) || !(signature instanceof Uint8Array)) {
    throw new SealError(Step.PARSE, "unprotected header must be a map and the signature bytes");
  }
  let protectedHeader = new Map();
  if (protectedBytes.length) {
    try {
      protectedHeader = decodeCbor(protectedBytes);
    } catch (error) {
      throw new SealError(Step.PARSE, `protected header is not CBOR: ${error.message}`);
    }
  }
  if (!(protectedHeader instanceof Map)) {
    throw new SealError(Step.PARSE, "protected header must be a map");
  }
  return { protectedBytes, protectedHeader, unprotected, payload, signature };
}

// ES256 over the Sig_structure; alg must be in the protected header (an alg only in the unprotected
// header is not covered by the signature, so it is refused like a bad signature, as in cose.py).
async function signatureMatches(message, publicKey) {
  if (message.protectedHeader.get(HEADER_ALG) !== ES256 || message.signature.length !== 64) {
    return false;
  }
  try {
    return await crypto.subtle.verify(
      ECDSA_P256,
      publicKey,
      message.signature,
      sigStructure(message.protectedBytes, message.payload),
    );
  } catch (error) {
    return false;
  }
}

function isEpoch(value) {
  return Number.isInteger(value) && value >= MIN_EPOCH && value <= MAX_EPOCH;
}

function textList(value) {
  if (!Array.isArray(value) || !value.every((item) => typeof item === "string")) {
    throw new SealError(Step.PARSE, "claims are malformed: a list of text expected");
  }
  return value.slice();
}

export function parseClaims(payload) {
  let data;
  try {
    data = decodeCbor(payload);
  } catch (error) {
    throw new SealError(Step.PARSE, `claims are malformed: ${error.message}`);
  }
  if (!(data instanceof Map) || !(data.get(CLAIM_PERMIT) instanceof Map)) {
    throw new SealError(Step.PARSE, "claims are malformed: no permit claim");
  }
  const permit = data.get(CLAIM_PERMIT);
  if (permit.get("v") !== SCHEMA_VERSION) {
    throw new SealError(Step.PARSE, `unknown seal schema version ${permit.get("v")}`);
  }
  const issuer = data.get(CLAIM_ISS);
  const sealId = data.get(CLAIM_CTI);
  const times = [CLAIM_IAT, CLAIM_NBF, CLAIM_EXP].map((claim) => data.get(claim));
  if (typeof issuer !== "string" || !(sealId instanceof Uint8Array) || !times.every(isEpoch)) {
    throw new SealError(Step.PARSE, "claims are malformed: iss, cti, iat, nbf or exp");
  }
  const number = permit.get("pn");
  const category = permit.get("c");
  if (typeof number !== "string" || typeof category !== "string") {
    throw new SealError(Step.PARSE, "claims are malformed: pn or c");
  }
  const claims = {
    issuer,
    sealId,
    issuedAt: times[0],
    validFrom: times[1],
    validTo: times[2],
    permitNumber: number,
    plates: textList(permit.get("pl")),
    zones: textList(permit.get("z")),
    category,
    windows: permit.has("w") ? textList(permit.get("w")) : [],
  };
  if (sealId.length !== 8) {
    throw new SealError(Step.PARSE, "cti must be 8 bytes");
  }
  return claims;
}

// --- daily windows, as ztl/rules/windows.py -------------------------------------------------------

const WINDOW = /^(\d{2}):(\d{2})-(\d{2}):(\d{2})$/;
const DAY_MINUTES = 24 * 60;

export class WindowError extends Error {}

export function parseWindow(text) {
  const match = WINDOW.exec(String(text).trim());
  if (!match) {
    throw new WindowError(`${text} is not a window HH:MM-HH:MM`);
  }
  const [h1, m1, h2, m2] = match.slice(1).map(Number);
  if (h1 > 23 || m1 > 59 || m2 > 59 || h2 > 24 || (h2 === 24 && m2 !== 0)) {
    throw new WindowError(`${text} has an hour or minute that does not exist`);
  }
  const start = h1 * 60 + m1;
  let end = h2 * 60 + m2;
  if (start === end && start !== 0) {
    throw new WindowError(`${text} is empty: start and end are the same`);
  }
  if (start === 0 && end === 0) {
    end = DAY_MINUTES;
  }
  return { start, end };
}

// Minutes since local midnight on the municipality's wall clock (DST included, by Intl's tz data).
export function localMinutes(at, timeZone) {
  return wallClock(at, timeZone).minute;
}

// End excluded; an end at or before the start crosses midnight; no windows means always.
export function covered(windows, at, timeZone) {
  if (!windows.length) {
    return true;
  }
  const minute = localMinutes(at, timeZone);
  return windows.some(({ start, end }) =>
    end > start ? start <= minute && minute < end : minute >= start || minute < end,
  );
}

// --- the whole verification ------------------------------------------------------------------------

export async function revocationHandle(sealId) {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", sealId));
  return toHex(digest.subarray(0, 16));
}

// Plates are compared normalised: upper case, no spaces or dashes ("ab 123-cd" -> "AB123CD").
export function normalisePlate(text) {
  return String(text || "").toUpperCase().replace(/[\s-]+/g, "");
}

/**
 * Verify a seal's text.
 * @param {string} text what the QR code holds
 * @param {{sealKeys: Map<string, CryptoKey>}} trust the verified trust list (kid hex -> key)
 * @param {{revoked: Map<string, Set<string>>}} revocations the verified revocation list
 * @param {{at: Date, zone?: string|null, plate?: string|null, timeZone: string,
 *   calendar?: object|null}} check calendar: the zones' calendars (browser_calendar); without
 *   them only the permit's hours decide
 * @returns {Promise<{valid: boolean, step: string|null, detail: string, claims: object|null,
 *   kid: string|null, zoneInactive: boolean, calendar: string|null}>} zoneInactive: the zone was
 *   not restricted at that instant; calendar: the zone's Activity, null when not asked
 */
export async function verifySeal(text, trust, revocations, check) {
  try {
    return await verify(text, trust, revocations, check);
  } catch (error) {
    const step = error instanceof SealError ? error.step : Step.PARSE;
    const detail = error instanceof SealError ? error.message : String(error);
    const none = { claims: null, kid: null, zoneInactive: false, calendar: null };
    return { valid: false, step, detail, ...none };
  }
}

async function verify(text, trust, revocations, check) {
  const seal = String(text || "").trim();
  if (seal.length > MAX_TEXT) {
    throw new SealError(Step.PARSE, `seal longer than ${MAX_TEXT} characters`);
  }
  if (!seal.startsWith(PREFIX)) {
    throw new SealError(Step.PARSE, `a seal starts with ${PREFIX}`);
  }
  let compressed;
  try {
    compressed = b45decode(seal.slice(PREFIX.length));
  } catch (error) {
    throw new SealError(Step.PARSE, error.message);
  }
  const message = parseSign1(await inflate(compressed));
  const kidBytes = message.protectedHeader.get(HEADER_KID);
  const kid = kidBytes instanceof Uint8Array ? toHex(kidBytes) : null;
  if (kid === null || !trust.sealKeys.has(kid)) {
    throw new SealError(Step.KID, "the signing key is not in the trust list");
  }
  if (!(await signatureMatches(message, trust.sealKeys.get(kid)))) {
    throw new SealError(Step.SIGNATURE, "the signature does not match");
  }
  const claims = parseClaims(message.payload);
  let zoneInactive = false;
  let calendar = null;
  const refused = (step, detail) => ({
    valid: false,
    step,
    detail,
    claims,
    kid,
    zoneInactive,
    calendar,
  });
  const at = check.at.getTime();
  if (at + CLOCK_TOLERANCE_MS < claims.validFrom * 1000) {
    return refused(Step.NOT_YET_VALID, "the permit is not valid yet");
  }
  if (at - CLOCK_TOLERANCE_MS > claims.validTo * 1000) {
    return refused(Step.EXPIRED, "the permit has expired");
  }
  const handles = revocations.revoked.get(kid);
  if (handles && handles.has(await revocationHandle(claims.sealId))) {
    return refused(Step.REVOKED, "the permit has been revoked");
  }
  if (check.zone && !claims.zones.includes(check.zone)) {
    return refused(Step.ZONE, `the permit is not valid in zone ${check.zone}`);
  }
  let windows;
  try {
    windows = claims.windows.map(parseWindow);
  } catch (error) {
    throw new SealError(Step.PARSE, `window in the seal is malformed: ${error.message}`);
  }
  if (check.zone && check.calendar) {
    calendar = zoneActivity(check.calendar, check.zone, check.at, check.timeZone).activity;
    zoneInactive = calendar === Activity.INACTIVE;
  }
  if (!zoneInactive && !covered(windows, check.at, check.timeZone)) {
    return refused(Step.WINDOW, `the permit is valid only ${claims.windows.join(", ")}`);
  }
  if (check.plate && !claims.plates.includes(check.plate)) {
    return refused(Step.PLATE, `the permit is not for plate ${check.plate}`);
  }
  const detail = zoneInactive
    ? `valid; zone ${check.zone} is not restricted at that time`
    : "valid";
  return { valid: true, step: null, detail, claims, kid, zoneInactive, calendar };
}
