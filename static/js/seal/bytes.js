// Byte helpers shared by the seal verifier: Base64 (standard and URL-safe), hex, UTF-8.
// Why our own: atob() works on "binary strings", and the lists carry URL-safe Base64 without
// padding (ztl/signing/lists.py), which atob() refuses as it is.

const STANDARD = /^[A-Za-z0-9+/]*={0,2}$/;
const URL_SAFE = /^[A-Za-z0-9_-]*$/;

export function base64Decode(text) {
  if (typeof text !== "string" || !STANDARD.test(text)) {
    throw new TypeError("not Base64");
  }
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) {
    out[i] = binary.charCodeAt(i);
  }
  return out;
}

export function base64UrlDecode(text) {
  if (typeof text !== "string" || !URL_SAFE.test(text) || text.length % 4 === 1) {
    throw new TypeError("not URL-safe Base64");
  }
  const standard = text.replace(/-/g, "+").replace(/_/g, "/");
  return base64Decode(standard + "=".repeat((4 - (standard.length % 4)) % 4));
}

export function toHex(bytes) {
  let out = "";
  for (const byte of bytes) {
    out += byte.toString(16).padStart(2, "0");
  }
  return out;
}

export function concatBytes(parts) {
  const total = parts.reduce((sum, part) => sum + part.length, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

export function utf8Decode(bytes) {
  return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
}

export function utf8Encode(text) {
  return new TextEncoder().encode(text);
}
