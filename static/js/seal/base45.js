// Base45 (RFC 9285), decoding only: the seal's text is "ZTL1:" + Base45 so that it fits a QR code
// in alphanumeric mode. Mirrors ztl/signing/base45.py, including which inputs it refuses.

export const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
const VALUE = new Map(Array.from(ALPHABET, (c, i) => [c, i]));

export class Base45Error extends Error {}

export function b45decode(text) {
  const values = [];
  for (const c of text) {
    const value = VALUE.get(c);
    if (value === undefined) {
      throw new Base45Error(`character ${JSON.stringify(c)} is not Base45`);
    }
    values.push(value);
  }
  if (values.length % 3 === 1) {
    throw new Base45Error("Base45 length cannot be 1 modulo 3");
  }
  const out = [];
  for (let i = 0; i < values.length; i += 3) {
    if (i + 2 < values.length) {
      const n = values[i] + values[i + 1] * 45 + values[i + 2] * 45 * 45;
      if (n > 0xffff) {
        throw new Base45Error("Base45 triplet out of range");
      }
      out.push(n >> 8, n & 0xff);
    } else {
      const n = values[i] + values[i + 1] * 45;
      if (n > 0xff) {
        throw new Base45Error("Base45 pair out of range");
      }
      out.push(n);
    }
  }
  return Uint8Array.from(out);
}
