// A small CBOR (RFC 8949) decoder and the one encoding the seal's signature needs.
//
// Why our own and so small: a seal holds only unsigned and negative integers, byte and text strings,
// arrays, maps, tag 18 (COSE_Sign1) and a few simple values, all with definite lengths. Everything
// else (floats, indefinite lengths, other tags, big integers) is refused, so hostile input meets as
// little code as possible. Maps become JavaScript Maps whose keys are numbers or strings (a key of
// another type is refused); a later duplicate key wins, as with cbor2. Like cbor2.loads, bytes after
// the first item are ignored.

import { concatBytes, utf8Decode, utf8Encode } from "./bytes.js";

const MAX_DEPTH = 16;

export class CborError extends Error {}

export class CborTag {
  constructor(tag, value) {
    this.tag = tag;
    this.value = value;
  }
}

export const CBOR_UNDEFINED = Object.freeze({ cbor: "undefined" });

export function decodeCbor(bytes) {
  if (!(bytes instanceof Uint8Array)) {
    throw new CborError("CBOR input must be bytes");
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 0;

  function need(count) {
    if (count > bytes.length - offset) {
      throw new CborError("premature end of CBOR data");
    }
  }

  function argument(info) {
    if (info < 24) {
      return info;
    }
    if (info === 24) {
      need(1);
      offset += 1;
      return bytes[offset - 1];
    }
    if (info === 25) {
      need(2);
      offset += 2;
      return view.getUint16(offset - 2);
    }
    if (info === 26) {
      need(4);
      offset += 4;
      return view.getUint32(offset - 4);
    }
    if (info === 27) {
      need(8);
      const value = view.getBigUint64(offset);
      offset += 8;
      if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
        throw new CborError("integer too large");
      }
      return Number(value);
    }
    if (info === 31) {
      throw new CborError("indefinite lengths are not accepted");
    }
    throw new CborError(`reserved additional information ${info}`);
  }

  function item(depth) {
    if (depth > MAX_DEPTH) {
      throw new CborError("CBOR nested too deeply");
    }
    need(1);
    const initial = bytes[offset];
    offset += 1;
    const major = initial >> 5;
    const info = initial & 0x1f;
    if (major === 7) {
      return simple(info);
    }
    const n = argument(info);
    switch (major) {
      case 0:
        return n;
      case 1:
        return -1 - n;
      case 2: {
        need(n);
        offset += n;
        return bytes.slice(offset - n, offset);
      }
      case 3: {
        need(n);
        offset += n;
        try {
          return utf8Decode(bytes.subarray(offset - n, offset));
        } catch (error) {
          throw new CborError("text string is not UTF-8");
        }
      }
      case 4: {
        need(n); // every item takes at least one byte: refuses absurd lengths before allocating
        const array = [];
        for (let i = 0; i < n; i += 1) {
          array.push(item(depth + 1));
        }
        return array;
      }
      case 5: {
        need(n * 2);
        const map = new Map();
        for (let i = 0; i < n; i += 1) {
          const key = item(depth + 1);
          if (typeof key !== "number" && typeof key !== "string") {
            throw new CborError("map keys must be integers or text");
          }
          map.set(key, item(depth + 1));
        }
        return map;
      }
      case 6:
        if (n !== 18) {
          throw new CborError(`CBOR tag ${n} is not accepted`);
        }
        return new CborTag(n, item(depth + 1));
      default:
        throw new CborError(`unknown major type ${major}`);
    }
  }

  function simple(info) {
    if (info === 20) {
      return false;
    }
    if (info === 21) {
      return true;
    }
    if (info === 22) {
      return null;
    }
    if (info === 23) {
      return CBOR_UNDEFINED;
    }
    if (info < 20) {
      return { cbor: "simple", value: info };
    }
    if (info === 24) {
      need(1);
      offset += 1;
      if (bytes[offset - 1] < 32) {
        throw new CborError("badly encoded simple value");
      }
      return { cbor: "simple", value: bytes[offset - 1] };
    }
    throw new CborError("floating point and break are not accepted");
  }

  return item(0);
}

function head(major, length) {
  if (length < 24) {
    return Uint8Array.of((major << 5) | length);
  }
  if (length < 0x100) {
    return Uint8Array.of((major << 5) | 24, length);
  }
  if (length < 0x10000) {
    return Uint8Array.of((major << 5) | 25, length >> 8, length & 0xff);
  }
  const out = new Uint8Array(5);
  out[0] = (major << 5) | 26;
  new DataView(out.buffer).setUint32(1, length);
  return out;
}

function byteString(bytes) {
  return concatBytes([head(2, bytes.length), bytes]);
}

// Sig_structure of COSE_Sign1 (RFC 9052, 4.4): ["Signature1", protected, external_aad, payload],
// with the protected header's bytes exactly as received and an empty external_aad.
export function sigStructure(protectedBytes, payload) {
  const context = utf8Encode("Signature1");
  return concatBytes([
    head(4, 4),
    head(3, context.length),
    context,
    byteString(protectedBytes),
    byteString(new Uint8Array(0)),
    byteString(payload),
  ]);
}
