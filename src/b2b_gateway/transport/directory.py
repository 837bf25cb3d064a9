"""Directory channels: pickup (take a file only when complete) and drop (write a temporary name, then rename).

:class:`DirectorySender` delivers outbox entries into a drop directory, one file per output named by
its idempotency key, so a repeated delivery rewrites the same file.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from b2b_gateway.errors import DeliveryError
from b2b_gateway.formats.detect import streamable
from b2b_gateway.transport.base import OutboundRequest

__all__ = ["DirectoryDrop", "DirectoryPickup", "DirectorySender", "PickedFile", "drop_name"]

_IGNORED_SUFFIXES = (".tmp", ".part", ".partial", ".filepart", ".crdownload")


@dataclass(frozen=True, slots=True)
class PickedFile:
    """A file claimed from a pickup directory (moved into its ``.work`` folder).

    ``data`` is the content, or ``None`` for a file over the pickup's ``stream_threshold``: that one is
    never loaded, it is read as a stream from where it is archived.
    """

    path: Path
    name: str
    data: bytes | None
    mtime_ns: int = 0
    size: int = 0

    @property
    def streamed(self) -> bool:
        return self.data is None

    @property
    def identity(self) -> str:
        """What makes this file this file (name, time, content): the seed of its stable message id."""
        if self.data is not None:
            return f"dir:{self.name}:{self.mtime_ns}:{len(self.data)}:{hashlib.sha256(self.data).hexdigest()}"
        digest = hashlib.sha256()
        with self.path.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
        return f"dir:{self.name}:{self.mtime_ns}:{self.size}:{digest.hexdigest()}"


@dataclass(slots=True)
class DirectoryPickup:
    """Watches ``inbox``; a file is taken once its size and mtime have not changed for ``settle_s``
    (seen unchanged over two polls, or last written to at least ``settle_s`` ago).

    Claimed files move to ``inbox/.work/``; after processing, :meth:`done` moves them to ``archive/``
    or ``error/`` beside the inbox. Files left in ``.work/`` by a crash are taken again at start.
    """

    inbox: Path
    settle_s: float = 0.2
    max_bytes: int = 64 * 1024 * 1024
    stream_threshold: int | None = None
    """Files over this many bytes are not read into memory (:attr:`PickedFile.data` is ``None``)."""
    _seen: dict[str, tuple[int, int, float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for sub in (self.inbox, self.work, self.archive, self.error):
            sub.mkdir(parents=True, exist_ok=True)

    @property
    def work(self) -> Path:
        return self.inbox / ".work"

    @property
    def archive(self) -> Path:
        return self.inbox.parent / f"{self.inbox.name}.archive"

    @property
    def error(self) -> Path:
        return self.inbox.parent / f"{self.inbox.name}.error"

    def recover(self) -> list[PickedFile]:
        """Files a previous process claimed but did not finish."""
        return [self._picked(p, p.stat()) for p in sorted(self.work.iterdir()) if p.is_file()]

    def _picked(self, path: Path, st: os.stat_result) -> PickedFile:
        big = self.stream_threshold is not None and st.st_size > self.stream_threshold and streamable(_head(path))
        return PickedFile(path, path.name, None if big else path.read_bytes(), st.st_mtime_ns, st.st_size)

    def poll(self) -> list[PickedFile]:
        """Claim every complete file in the inbox (oldest first)."""
        now = time.monotonic()
        ready: list[PickedFile] = []
        current: set[str] = set()
        for entry in sorted(os.scandir(self.inbox), key=lambda e: e.name):
            if not entry.is_file() or entry.name.startswith(".") or entry.name.endswith(_IGNORED_SUFFIXES):
                continue
            st = entry.stat()
            current.add(entry.name)
            sig = (st.st_size, st.st_mtime_ns)
            previous = self._seen.get(entry.name)
            if previous is None or previous[:2] != sig:
                self._seen[entry.name] = (*sig, now)
                untouched = time.time() - st.st_mtime  # a file not written to for settle_s is complete already
                if self.settle_s > 0 and (previous is not None or untouched < self.settle_s):
                    continue
            elif now - previous[2] < self.settle_s:
                continue
            target = self.work / entry.name
            try:
                os.replace(entry.path, target)
            except FileNotFoundError:
                continue  # another process took it
            self._seen.pop(entry.name, None)
            ready.append(self._picked(target, st))
        for gone in set(self._seen) - current:
            self._seen.pop(gone, None)
        return ready

    def done(self, picked: PickedFile, *, ok: bool, message_id: str) -> Path:
        """Move a processed file out of ``.work`` into the archive or error directory."""
        target = self.archived(picked, ok=ok, message_id=message_id)
        os.replace(picked.path, target)
        return target

    def archived(self, picked: PickedFile, *, ok: bool = True, message_id: str) -> Path:
        """Where :meth:`done` puts ``picked``."""
        return (self.archive if ok else self.error) / f"{message_id}-{picked.name}"


@dataclass(frozen=True, slots=True)
class DirectoryDrop:
    """Writes files atomically: a hidden temporary name, fsync, then rename into place."""

    outbox: Path

    def write(self, name: str, data: bytes) -> Path:
        self.outbox.mkdir(parents=True, exist_ok=True)
        safe = name.replace("/", "_").replace("\\", "_")
        tmp = self.outbox / f".{safe}.tmp"
        with tmp.open("wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        final = self.outbox / safe
        os.replace(tmp, final)
        return final


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_EXTENSIONS = {
    "canonical-json": "json",
    "json": "json",
    "ubl": "xml",
    "cii": "xml",
    "edifact": "edi",
    "ubl-json": "json",
}


def drop_name(document_type: str | None, business_key: str | None, key: str, fmt: str) -> str:
    """``<document_type>-<business_key>-<idempotency key>.<ext>``: one name per output, whoever writes it."""
    ext = _EXTENSIONS.get(fmt, "dat")
    safe = _UNSAFE.sub("_", business_key or "doc")[:80]
    return f"{_UNSAFE.sub('_', document_type or 'document')}-{safe}-{_UNSAFE.sub('_', key)}.{ext}"


@dataclass(slots=True)
class DirectorySender:
    """Writes each output into the endpoint's directory under its :func:`drop_name`."""

    def file_name(self, request: OutboundRequest) -> str:
        return drop_name(
            request.document_type or request.kind, request.business_key, request.idempotency_key, request.format
        )

    async def send(self, request: OutboundRequest) -> str:
        target = Path(request.endpoint.address)
        try:
            # off the event loop: an fsync on a slow or network disk would stall every document in flight
            path = await asyncio.to_thread(DirectoryDrop(target).write, self.file_name(request), request.payload)
        except OSError as exc:
            raise DeliveryError(f"cannot write into {target}: {exc.strerror or exc}") from None
        return f"file {path.name}"


def _head(path: Path) -> bytes:
    """The first bytes of a file (what tells whether it may be read as a stream)."""
    with path.open("rb") as fh:
        return fh.read(4096)
