"""Keys: init, rotate, list, PKCS#12 import; private keys 0600; missing keys name the command;
the certificates name the municipality of the rules file, never a default city."""

from __future__ import annotations

import datetime as dt
import stat
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12

from ztl.city.rules_config import current_rules
from ztl.signing.keys import KeyStore, KeyStoreError, Purpose, kid_of

CITY = "Comune di Prova"


def _organisations(certificate: x509.Certificate) -> list[str]:
    """The O of the subject and of the issuer: the municipality each certificate names."""
    return [
        str(attribute.value)
        for name in (certificate.subject, certificate.issuer)
        for attribute in name.get_attributes_for_oid(x509.oid.NameOID.ORGANIZATION_NAME)
    ]


def test_init_creates_a_chain_with_0600_keys_and_never_overwrites(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "keys", CITY)
    made = store.init()
    assert made[0] == "root-ca" and made[2:] == ["pdf", "lists"] and len(made) == 4
    assert made[1].startswith("seal-")  # named by its creation time and key id
    for key_file in (tmp_path / "keys").glob("*.key"):
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600, key_file
    assert stat.S_IMODE((tmp_path / "keys").stat().st_mode) == 0o700
    root = store.root().certificate
    for pair in (store.current_seal(), store.pdf(), store.lists()):
        pair.certificate.verify_directly_issued_by(root)
        assert pair.kid == kid_of(pair.certificate) and len(pair.kid) == 8
        assert _organisations(pair.certificate) == [CITY, CITY]
        assert pair.certificate.subject.rfc4514_string().startswith(f"CN={CITY} - ZTL")
    assert store.root_organisation() == CITY
    usage = store.pdf().certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment  # nonRepudiation
    before = sorted(p.name for p in (tmp_path / "keys").iterdir())
    assert store.init() == []
    assert sorted(p.name for p in (tmp_path / "keys").iterdir()) == before


def test_without_the_municipalitys_name_no_certificate_is_made(tmp_path: Path) -> None:
    """Reading needs only the folder; issuing refuses rather than writing a default city's name."""
    with pytest.raises(KeyStoreError, match="municipality"):
        KeyStore(tmp_path / "keys").init()
    assert not (tmp_path / "keys" / "root-ca.key").exists()
    KeyStore(tmp_path / "keys", CITY).init()
    reader = KeyStore(tmp_path / "keys")
    assert reader.root_organisation() == CITY and reader.current_seal().kid
    with pytest.raises(KeyStoreError, match="municipality"):
        reader.rotate()


def test_rotation_keeps_old_keys_and_signs_with_the_new(tmp_path: Path) -> None:
    store = KeyStore(tmp_path, CITY)
    store.init()
    first = store.current_seal()
    second = store.rotate()
    assert store.current_seal().kid == second.kid != first.kid
    assert [p.kid for p in store.seals()] == [first.kid, second.kid]


def test_missing_keys_name_the_command(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "none")
    with pytest.raises(KeyStoreError, match="ztl keys init"):
        store.current_seal()
    with pytest.raises(KeyStoreError, match="ztl keys init"):
        store.pdf()
    with pytest.raises(KeyStoreError, match="ztl keys init"):
        store.rotate()


def test_import_p12(tmp_path: Path) -> None:
    store = KeyStore(tmp_path, CITY)
    store.init()
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, f"{CITY} (CA reale)")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=900))
        .sign(key, hashes.SHA256())
    )
    data = pkcs12.serialize_key_and_certificates(
        b"pdf", key, certificate, None, serialization.BestAvailableEncryption(b"secret")
    )
    pair = store.import_p12(data, b"secret", Purpose.PDF)
    assert store.pdf().kid == pair.kid == kid_of(certificate)
    with pytest.raises(KeyStoreError, match="PKCS#12"):
        store.import_p12(data, b"wrong", Purpose.PDF)


def test_cli(app: Any, runner: Any) -> None:
    assert "ztl keys init" in runner.invoke(args=["keys", "list"]).output
    assert runner.invoke(args=["keys", "list"]).exit_code == 2
    init = runner.invoke(args=["keys", "init"])
    assert init.exit_code == 0 and "created" in init.output
    name = current_rules(app).name  # the rules file's [municipality] name
    assert name in init.output and "warning" not in init.output
    root = x509.load_pem_x509_certificate(
        (Path(app.config["ZTL_KEYS_DIR"]) / "root-ca.crt").read_bytes()
    )
    assert _organisations(root) == [name, name]
    assert "already present" in runner.invoke(args=["keys", "init"]).output
    rotated = runner.invoke(args=["keys", "rotate"])
    assert rotated.exit_code == 0 and "new seal key" in rotated.output
    listing = runner.invoke(args=["keys", "list"]).output
    assert listing.count("seal ") == 2 and "(signs new seals)" in listing
    assert "PDF signing" in listing and "root CA" in listing


def test_cli_says_when_the_keys_name_another_municipality(
    app: Any, runner: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keys made under an earlier rules file are kept (old permits must still verify), not hidden."""
    monkeypatch.setitem(app.config, "ZTL_KEYS_DIR", str(tmp_path / "keys"))
    KeyStore(tmp_path / "keys", "Comune di Altrove").init()
    result = runner.invoke(args=["keys", "init"])
    assert result.exit_code == 0 and "already present" in result.output
    assert "warning" in result.output and "Comune di Altrove" in result.output
    assert current_rules(app).name in result.output
