"""Base45 (RFC 9285): the QR alphanumeric alphabet, so a seal fits a small QR code."""

from __future__ import annotations

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_VALUE = {c: i for i, c in enumerate(ALPHABET)}


class Base45Error(ValueError):
    pass


def b45encode(data: bytes) -> str:
    out: list[str] = []
    for i in range(0, len(data) - 1, 2):
        n = data[i] * 256 + data[i + 1]
        e, n = divmod(n, 45 * 45)
        d, c = divmod(n, 45)
        out += (ALPHABET[c], ALPHABET[d], ALPHABET[e])
    if len(data) % 2:
        d, c = divmod(data[-1], 45)
        out += (ALPHABET[c], ALPHABET[d])
    return "".join(out)


def b45decode(text: str) -> bytes:
    try:
        values = [_VALUE[c] for c in text]
    except KeyError as exc:
        raise Base45Error(f"character {exc.args[0]!r} is not Base45") from exc
    if len(values) % 3 == 1:
        raise Base45Error("Base45 length cannot be 1 modulo 3")
    out = bytearray()
    for i in range(0, len(values), 3):
        chunk = values[i : i + 3]
        if len(chunk) == 3:
            n = chunk[0] + chunk[1] * 45 + chunk[2] * 45 * 45
            if n > 0xFFFF:
                raise Base45Error("Base45 triplet out of range")
            out += bytes((n >> 8, n & 0xFF))
        else:
            n = chunk[0] + chunk[1] * 45
            if n > 0xFF:
                raise Base45Error("Base45 pair out of range")
            out.append(n)
    return bytes(out)
