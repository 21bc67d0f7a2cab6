"""A verifier's cache of the trust and revocation lists, for checking seals with no network.

The root certificate is pinned in the cache folder; lists are stored only after their signatures
check, and a revocation list older than the cached one is refused (a replayed old list would
hide revocations).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509

from ztl.signing.lists import (
    ListError,
    RevocationList,
    TrustList,
    load_revocation_list,
    load_trust_list,
)

ROOT_FILE = "root-ca.crt"
TRUST_FILE = "trust-list.json"
REVOCATIONS_FILE = "revocations.json"


@dataclass(frozen=True)
class CachedLists:
    root: x509.Certificate
    trust: TrustList
    revocations: RevocationList

    def stale(self, now: dt.datetime) -> list[str]:
        """Warnings for lists past their next update: still used, but the officer is told."""
        warnings = []
        if now > self.trust.next_update:
            warnings.append(
                f"trust list due for update since {self.trust.next_update:%Y-%m-%d %H:%M}Z"
            )
        if now > self.revocations.next_update:
            warnings.append(
                f"revocation list due for update since {self.revocations.next_update:%Y-%m-%d %H:%M}Z"
            )
        return warnings


class ListCache:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def pin_root(self, certificate_pem: bytes) -> None:
        x509.load_pem_x509_certificate(certificate_pem)  # refuse anything that is not a certificate
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / ROOT_FILE).write_bytes(certificate_pem)

    def root(self) -> x509.Certificate:
        path = self.folder / ROOT_FILE
        if not path.exists():
            raise ListError(
                f"no pinned root certificate in {self.folder}: run `ztl lists export` on the "
                "server or `ztl lists fetch URL --root FILE`"
            )
        return x509.load_pem_x509_certificate(path.read_bytes())

    def held_sequence(self) -> int | None:
        try:
            return self.load().revocations.sequence
        except (ListError, OSError):
            return None

    def store(self, trust_bytes: bytes, revocation_bytes: bytes) -> CachedLists:
        """Verify, refuse an older revocation list, then write both lists."""
        root = self.root()
        trust = load_trust_list(trust_bytes, root)
        revocations = load_revocation_list(revocation_bytes, trust, self.held_sequence())
        (self.folder / TRUST_FILE).write_bytes(trust_bytes)
        (self.folder / REVOCATIONS_FILE).write_bytes(revocation_bytes)
        return CachedLists(root, trust, revocations)

    def load(self) -> CachedLists:
        root = self.root()
        trust_path, revocation_path = self.folder / TRUST_FILE, self.folder / REVOCATIONS_FILE
        if not trust_path.exists() or not revocation_path.exists():
            raise ListError(
                f"no cached lists in {self.folder}: run `ztl lists export` on the server "
                "or `ztl lists fetch URL`"
            )
        trust = load_trust_list(trust_path.read_bytes(), root)
        revocations = load_revocation_list(revocation_path.read_bytes(), trust)
        return CachedLists(root, trust, revocations)
