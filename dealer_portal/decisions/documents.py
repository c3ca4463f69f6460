"""Where uploaded documents and signed contracts are kept: a ``DocumentStore``, addressed by the
SHA-256 of the bytes (the same file stored twice is one file, and a file can never change under
its address).

``LocalDocumentStore`` (the default) keeps them in a folder, ``AUTOFIN_DOCUMENTS_DIR`` or
``<data dir>/documents``, written atomically (a temporary file renamed into place). Several API
processes on several machines need shared storage instead: the production adapter to add is an
S3-compatible object store (the same ``put``/``get`` on a bucket, keys ``sha256/ab/cdef…``).

Who may read a document is not the store's business: the rows in ``deal_documents`` and the
tenant checks in ``deals`` decide; the store only holds bytes.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Protocol

from fastapi import Depends

from shared.settings import get_settings

PDF, JPEG, PNG = "application/pdf", "image/jpeg", "image/png"


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    content_type: str
    size: int


class DocumentStore(Protocol):
    async def put(self, data: bytes) -> str:
        """Keep ``data``; its SHA-256 (hex), the address to read it back with."""
        ...

    async def get(self, sha256: str) -> bytes | None:
        """The bytes stored under ``sha256``, or None."""
        ...


class LocalDocumentStore:
    """Files in a folder: ``<root>/ab/abcdef…`` (the first two hex digits shard the folder)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError("not a SHA-256 in lower-case hex")
        return self.root / sha256[:2] / sha256

    def _write(self, sha256: str, data: bytes) -> None:
        path = self._path(sha256)
        if path.exists():
            return  # content-addressed: the same bytes are already there
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _read(self, sha256: str) -> bytes | None:
        try:
            return self._path(sha256).read_bytes()
        except FileNotFoundError:
            return None

    async def put(self, data: bytes) -> str:
        sha256 = hashlib.sha256(data).hexdigest()
        await asyncio.to_thread(self._write, sha256, data)
        return sha256

    async def get(self, sha256: str) -> bytes | None:
        return await asyncio.to_thread(self._read, sha256)


def sniff_content_type(data: bytes) -> str | None:
    """What the bytes are, from their content (never the file name): a PDF (its header and an
    end-of-file marker), a JPEG (SOI marker, ending EOI) or a PNG (signature and an IHDR chunk
    first); None for anything else."""
    if data.startswith(b"%PDF-") and b"%%EOF" in data[-1024:]:
        return PDF
    if data.startswith(b"\xff\xd8\xff") and data.rstrip(b"\x00\r\n").endswith(b"\xff\xd9"):
        return JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR":
        return PNG
    return None


def document_store() -> DocumentStore:
    """The configured store (a dependency, so tests and other adapters can replace it)."""
    settings = get_settings()
    return LocalDocumentStore(settings.documents_dir or settings.data_dir / "documents")


DocumentStoreDep = Annotated[DocumentStore, Depends(document_store)]
