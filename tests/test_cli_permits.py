"""`ztl permits issue` -> `ztl lists export` -> `ztl verify FILE.pdf`, and the PDF tamper matrix."""

from __future__ import annotations

import json
from io import BytesIO
from pathlib import Path
from typing import Any

from flask import Flask
from pyhanko.pdf_utils.generic import TextStringObject
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from tests.factories import DEMO_OWN_CAR, DEMO_RESIDENT
from ztl.signing.keys import KeyStore


def _issue(runner: Any, out: Path, *extra: str) -> Any:
    return runner.invoke(
        args=[
            "permits", "issue", "--category", "1", "--applicant", DEMO_RESIDENT,
            "--plate", DEMO_OWN_CAR, "--out", str(out), *extra,
        ]
    )  # fmt: skip


def _changed_byte(pdf: bytes) -> bytes:
    """One byte inside the signed first revision changed (a letter of the document's title)."""
    index = pdf.index(b"Permesso ZTL PO-") + len("Permesso ZT")
    return pdf[:index] + b"M" + pdf[index + 1 :]


def _appended_update(pdf: bytes) -> bytes:
    writer = IncrementalPdfFileWriter(BytesIO(pdf))
    writer.root["/ZTLNote"] = TextStringObject("added after signing")
    writer.update_root()
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def test_issue_export_and_verify_offline(
    city: Flask, keys: KeyStore, runner: Any, tmp_path: Path
) -> None:
    pdf_path, lists = tmp_path / "permit.pdf", tmp_path / "lists"
    issued = _issue(runner, pdf_path)
    assert issued.exit_code == 0, issued.output
    assert "issued PO-" in issued.output and pdf_path.read_bytes().startswith(b"%PDF")
    exported = runner.invoke(args=["lists", "export", "--dir", str(lists)])
    assert exported.exit_code == 0, exported.output
    verified = runner.invoke(
        args=["verify", str(pdf_path), "--lists", str(lists), "--zone", "A", "--json"]
    )
    assert verified.exit_code == 0, verified.output
    report = json.loads(verified.output)
    assert report["valid"] and report["pdf_signature"]["ok"] and report["seal"]["valid"]
    seal_only = runner.invoke(
        args=["verify", issued_seal(pdf_path), "--lists", str(lists), "--zone", "B",
              "--at", "2000-01-01T10:00:00+01:00"]
    )  # fmt: skip
    assert seal_only.exit_code == 1 and "not valid yet" in seal_only.output

    tampered = {
        "changed": (_changed_byte(pdf_path.read_bytes()), "changed after signing"),
        "appended": (_appended_update(pdf_path.read_bytes()), "added after the signature"),
    }
    for name, (data, reason) in tampered.items():
        path = tmp_path / f"{name}.pdf"
        path.write_bytes(data)
        result = runner.invoke(args=["verify", str(path), "--lists", str(lists)])
        assert result.exit_code == 1, (name, result.output)
        assert reason in result.output, (name, result.output)


def issued_seal(pdf_path: Path) -> str:
    from ztl.pdf.read import read_seal

    return read_seal(pdf_path.read_bytes())


def test_verify_without_lists_names_the_commands(app: Flask, runner: Any, tmp_path: Path) -> None:
    result = runner.invoke(args=["verify", "ZTL1:ABC", "--lists", str(tmp_path / "none")])
    assert result.exit_code == 2 and "ztl lists export" in result.output
    bad_time = runner.invoke(args=["verify", "ZTL1:ABC", "--at", "2026-11-25T10:00"])
    assert bad_time.exit_code == 2 and "offset" in bad_time.output


def test_counter_refusals_and_changes_through_the_cli(
    city: Flask, keys: KeyStore, runner: Any, tmp_path: Path
) -> None:
    refused = runner.invoke(
        args=["permits", "issue", "--category", "1", "--applicant", DEMO_RESIDENT,
              "--plate", "ZZ999ZZ"]
    )  # fmt: skip
    assert refused.exit_code == 1 and "vehicle_found" in refused.output
    bad = runner.invoke(
        args=["permits", "issue", "--category", "1", "--applicant", DEMO_RESIDENT,
              "--plate", "not a plate!"]
    )  # fmt: skip
    assert bad.exit_code == 2
    issued = _issue(runner, tmp_path / "p.pdf")
    number = issued.output.split()[1]
    early = runner.invoke(args=["permits", "renew", number])
    assert early.exit_code == 1 and "renewal opens" in early.output
    written = runner.invoke(args=["permits", "pdf", number, "--out", str(tmp_path / "copy.pdf")])
    assert written.exit_code == 0
    assert (tmp_path / "copy.pdf").read_bytes() == (tmp_path / "p.pdf").read_bytes()
    revoked = runner.invoke(args=["permits", "revoke", number, "--reason", "test"])
    assert revoked.exit_code == 0
    lists = tmp_path / "lists"
    runner.invoke(args=["lists", "export", "--dir", str(lists)])
    result = runner.invoke(args=["verify", str(tmp_path / "p.pdf"), "--lists", str(lists)])
    assert result.exit_code == 1 and "revoked" in result.output
