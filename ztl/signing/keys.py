"""The municipality's signing keys and certificates, in the instance folder (never the repository).

A root CA signs three kinds of certificate: seal signing (the QR seals), PDF signing (PAdES, key usage
digitalSignature + nonRepudiation) and list signing (trust and revocation lists). Seal keys rotate:
`rotate` adds a new one, which becomes the one used for new seals, while the older ones stay to
verify the permits they sealed. Private keys are written with mode 0600. A municipality may load
its own key and certificate from a PKCS#12 file issued by a real CA instead.
Layout: keys/root-ca.{key,crt}, keys/seal-<kid>.{key,crt}, keys/pdf.{key,crt}, keys/lists.{key,crt}.

The certificates' subject names the municipality (organisation and common name). The name has no
default: it comes from the rules file in force (`ztl.seals.keys.key_store`), so a city running
its own rules file cannot end up with another city's name in its certificates. Reading keys needs
only the folder (signing workers, verifiers); issuing certificates needs the name.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

ROOT = "root-ca"
SEAL_PREFIX = "seal-"
ROOT_YEARS = 20
LEAF_YEARS = 6  # longer than the longest permit (CUDE: 5 years), so sealed permits keep verifying


class Purpose(StrEnum):
    SEAL = "seal"
    PDF = "pdf"
    LISTS = "lists"


class KeyStoreError(RuntimeError):
    """Keys missing or unusable; str() names the command that fixes it."""


@dataclass(frozen=True)
class KeyPair:
    purpose: str
    name: str
    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate

    @property
    def kid(self) -> bytes:
        return kid_of(self.certificate)

    @property
    def valid_from(self) -> dt.datetime:
        return self.certificate.not_valid_before_utc

    @property
    def valid_to(self) -> dt.datetime:
        return self.certificate.not_valid_after_utc


def kid_of(certificate: x509.Certificate) -> bytes:
    """The key id of the seal format: the first 8 bytes of SHA-256 of the certificate's DER."""
    return hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).digest()[:8]


def _write_private(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    data = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _write_certificate(path: Path, certificate: x509.Certificate) -> None:
    path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))


def _name(common_name: str, municipality: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "IT"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, municipality),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _seal_name(certificate: x509.Certificate) -> str:
    """seal-<creation time>-<kid>: names sort in creation order, the newest signs new seals."""
    return f"{SEAL_PREFIX}{dt.datetime.now(dt.UTC):%Y%m%d%H%M%S%f}-{kid_of(certificate).hex()}"


class KeyStore:
    def __init__(self, folder: Path, municipality: str | None = None) -> None:
        self.folder = folder
        self.municipality = municipality

    def _subject_organisation(self) -> str:
        """The municipality's name for a new certificate; refused rather than guessed."""
        if not self.municipality or not self.municipality.strip():
            raise KeyStoreError(
                f"the key store {self.folder} was opened without the municipality's name, "
                "so it cannot issue certificates: open it with `ztl.seals.keys.key_store()` "
                "(the name of the rules file's [municipality] table)"
            )
        return self.municipality.strip()

    # --- reading -------------------------------------------------------------------------------

    def _load(self, name: str, purpose: str) -> KeyPair:
        key_path, cert_path = self.folder / f"{name}.key", self.folder / f"{name}.crt"
        if not key_path.exists() or not cert_path.exists():
            raise KeyStoreError(f"no {purpose} key in {self.folder}: run `ztl keys init`")
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise KeyStoreError(f"{key_path} is not an EC P-256 key")
        certificate = x509.load_pem_x509_certificate(cert_path.read_bytes())
        return KeyPair(purpose, name, key, certificate)

    def root(self) -> KeyPair:
        return self._load(ROOT, "root CA")

    def pdf(self) -> KeyPair:
        return self._load(Purpose.PDF.value, "PDF signing")

    def lists(self) -> KeyPair:
        return self._load(Purpose.LISTS.value, "list signing")

    def seals(self) -> list[KeyPair]:
        """Every seal key, oldest first."""
        names = sorted(p.stem for p in self.folder.glob(f"{SEAL_PREFIX}*.key"))
        return [self._load(name, "seal") for name in names]  # names sort by creation time

    def current_seal(self, at: dt.datetime | None = None) -> KeyPair:
        """The newest seal key already valid: the one that signs new seals."""
        at = at or dt.datetime.now(dt.UTC)
        usable = [p for p in self.seals() if p.valid_from <= at <= p.valid_to]
        if not usable:
            raise KeyStoreError(
                f"no usable seal key in {self.folder}: run `ztl keys init` or `ztl keys rotate`"
            )
        return usable[-1]

    def exists(self) -> bool:
        return (self.folder / f"{ROOT}.key").exists()

    def root_organisation(self) -> str | None:
        """The organisation the root certificate names (None without one): keys made under another
        name (an earlier rules file) keep it until new keys are made, and `ztl keys` says so."""
        if not self.exists():
            return None
        names = self.root().certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
        return str(names[0].value) if names else None

    # --- writing -------------------------------------------------------------------------------

    def init(self, now: dt.datetime | None = None) -> list[str]:
        """Create whatever is missing (root, seal, pdf, lists); never overwrites. Returns what was made."""
        now = now or dt.datetime.now(dt.UTC)
        self.folder.mkdir(parents=True, exist_ok=True)
        os.chmod(self.folder, 0o700)
        made = []
        if not self.exists():
            municipality = self._subject_organisation()
            key = ec.generate_private_key(ec.SECP256R1())
            name = _name(f"{municipality} - ZTL root CA", municipality)
            certificate = (
                x509.CertificateBuilder()
                .subject_name(name)
                .issuer_name(name)
                .public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(minutes=5))
                .not_valid_after(now + dt.timedelta(days=365 * ROOT_YEARS))
                .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                .add_extension(
                    x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                    critical=True,
                )
                .add_extension(
                    x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
                )
                .sign(key, hashes.SHA256())
            )
            _write_private(self.folder / f"{ROOT}.key", key)
            _write_certificate(self.folder / f"{ROOT}.crt", certificate)
            made.append(ROOT)
        if not self.seals():
            made.append(self._issue_leaf(Purpose.SEAL, now))
        for purpose in (Purpose.PDF, Purpose.LISTS):
            if not (self.folder / f"{purpose.value}.key").exists():
                made.append(self._issue_leaf(purpose, now))
        return made

    def rotate(
        self, now: dt.datetime | None = None, starts_at: dt.datetime | None = None
    ) -> KeyPair:
        """A new seal key; older ones stay to verify the permits they sealed.

        starts_at publishes the key before its first use: it enters the trust list at once but
        signs nothing until then, so verifiers holding a day-old list already know it.
        """
        if not self.exists():
            raise KeyStoreError(f"no keys in {self.folder}: run `ztl keys init` first")
        now = now or dt.datetime.now(dt.UTC)
        name = self._issue_leaf(Purpose.SEAL, max(now, starts_at or now))
        return self._load(name, "seal")

    def _issue_leaf(self, purpose: Purpose, now: dt.datetime) -> str:
        municipality = self._subject_organisation()
        root = self.root()
        key = ec.generate_private_key(ec.SECP256R1())
        usage = {
            Purpose.SEAL: x509.KeyUsage(
                True, False, False, False, False, False, False, False, False
            ),
            Purpose.PDF: x509.KeyUsage(True, True, False, False, False, False, False, False, False),
            Purpose.LISTS: x509.KeyUsage(
                True, False, False, False, False, False, False, False, False
            ),
        }[purpose]
        labels = {
            Purpose.SEAL: "ZTL permit seal",
            Purpose.PDF: "ZTL permit documents",
            Purpose.LISTS: "ZTL trust and revocation lists",
        }
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(f"{municipality} - {labels[purpose]}", municipality))
            .issuer_name(root.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(min(now + dt.timedelta(days=365 * LEAF_YEARS), root.valid_to))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(usage, critical=True)
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(root.key.public_key()),
                critical=False,
            )
        )
        if purpose is Purpose.PDF:
            builder = builder.add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
            )
        certificate = builder.sign(root.key, hashes.SHA256())
        name = _seal_name(certificate) if purpose is Purpose.SEAL else purpose.value
        _write_private(self.folder / f"{name}.key", key)
        _write_certificate(self.folder / f"{name}.crt", certificate)
        return name

    def import_p12(self, data: bytes, password: bytes | None, purpose: Purpose) -> KeyPair:
        """Load a municipality's own key and certificate (PKCS#12 from a real CA)."""
        try:
            key, certificate, _chain = pkcs12.load_key_and_certificates(data, password)
        except ValueError as exc:
            raise KeyStoreError(
                f"cannot read the PKCS#12 file (wrong password or not PKCS#12): {exc}"
            ) from exc
        if not isinstance(key, ec.EllipticCurvePrivateKey) or certificate is None:
            raise KeyStoreError(
                "the PKCS#12 file must hold an EC P-256 private key and its certificate"
            )
        self.folder.mkdir(parents=True, exist_ok=True)
        name = _seal_name(certificate) if purpose is Purpose.SEAL else purpose.value
        for suffix in (".key", ".crt"):
            target = self.folder / f"{name}{suffix}"
            if target.exists() and purpose is not Purpose.SEAL:
                target.replace(
                    self.folder / f"{name}{suffix}.replaced-{dt.datetime.now(dt.UTC):%Y%m%d%H%M%S}"
                )
        _write_private(self.folder / f"{name}.key", key)
        _write_certificate(self.folder / f"{name}.crt", certificate)
        return self._load(name, purpose.value)
