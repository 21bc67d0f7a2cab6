"""Rendering and signing permit PDFs on every core, for batches (a renewal campaign).

Why processes: reportlab and pyHanko are pure Python, so threads would share one core. Each worker
loads the document key once from the key folder (never sent over a pipe) and then only receives
PermitDocument values and returns signed bytes; it never touches the database.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from types import TracebackType

from ztl.pdf.render import PermitDocument
from ztl.pdf.signed import signed_permit
from ztl.signing.keys import KeyPair, KeyStore

_keys: tuple[KeyPair, KeyPair] | None = None


def _load_keys(folder: str) -> None:
    global _keys
    store = KeyStore(Path(folder))
    _keys = (store.pdf(), store.root())


def _render_and_sign(document: PermitDocument) -> bytes:
    assert _keys is not None, "worker started without keys"
    return signed_permit(document, *_keys)


class SigningPool:
    def __init__(self, keys_folder: Path, workers: int) -> None:
        self._executor = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_load_keys,
            initargs=(str(keys_folder),),
        )

    def render_and_sign(self, documents: Sequence[PermitDocument]) -> list[bytes]:
        return list(self._executor.map(_render_and_sign, documents, chunksize=4))

    def __enter__(self) -> SigningPool:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
