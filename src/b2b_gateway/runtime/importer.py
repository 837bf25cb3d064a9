"""Importing documents in bulk (``b2b-gateway messages import``): a directory, a zip or a tar of files.

Each file enters the gateway as a file dropped into the pickup directory does: published to the inbound
exchange (``b2b.in``) through the configured queue transport, with its file name (and the partner, when
given) in the headers, and a *stable* message id. The gateway then processes it like any other input.

The id derives from the file's path in the source, its size and its SHA-256, so importing the same
archive again finds every file already in the store and skips it. A file of a pickup archive
(``var/in.archive/<message id>-<name>``) keeps the id it had: importing the gateway's own archive into the
same store is a no-op, into a fresh store it brings the same ids back.

Example:
    >>> async with open_operations(settings) as ops:                     # doctest: +SKIP
    ...     with open_source(Path("backlog.zip"), import_limits(settings)) as source:
    ...         report = await import_source(ops, source, partner="ACME")
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from b2b_gateway.errors import GatewayError
from b2b_gateway.pipeline.message import derive_id
from b2b_gateway.runtime.operations import Operations
from b2b_gateway.settings import Settings
from b2b_gateway.transport.archive import ArchiveLimits, DocumentSource, Member
from b2b_gateway.transport.base import Envelope, Headers

__all__ = ["ImportReport", "import_identity", "import_limits", "import_source"]

_ARCHIVED = re.compile(r"^([0-9a-f]{32})-(.+)$")
_BATCH = 200
_BATCH_BYTES = 32 * 1024 * 1024  # what is held in memory between store look-ups


def import_limits(settings: Settings) -> ArchiveLimits:
    """The caps of ``limits``: per document, in all, and members per source."""
    limits = settings.limits
    return ArchiveLimits(limits.max_document_bytes, limits.max_import_bytes, limits.max_import_members)


def import_identity(name: str, data: bytes) -> tuple[str, str]:
    """(stable message id, file name) of an imported file at path ``name`` in its source.

    A pickup archive's ``<message id>-<name>`` keeps its message id and gives back its original name.
    """
    base = PurePosixPath(name.replace("\\", "/")).name
    archived = _ARCHIVED.match(base)
    if archived:
        return archived.group(1), archived.group(2)
    digest = hashlib.sha256(data).hexdigest()
    return derive_id(f"import:{name}:{len(data)}:{digest}"), base


@dataclass(slots=True)
class ImportReport:
    """What became of each file of a source."""

    source: str
    imported: list[dict[str, str]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    """Already in the store (imported or picked up before)."""
    refused: list[dict[str, Any]] = field(default_factory=list)
    """Unsafe, too large or unreadable: with the error."""
    errors: list[GatewayError] = field(default_factory=list)
    """The errors of :attr:`refused`, in order."""

    def refuse(self, where: str, error: GatewayError) -> None:
        self.refused.append({"file": where, "code": error.code, "error": error.message, "detail": error.to_dict()})
        self.errors.append(error)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "counts": {"imported": len(self.imported), "skipped": len(self.skipped), "refused": len(self.refused)},
            "imported": self.imported,
            "skipped": self.skipped,
            "refused": self.refused,
        }


async def import_source(
    ops: Operations,
    source: DocumentSource,
    *,
    partner: str | None = None,
    dry_run: bool = False,
    advance: Callable[[int], None] | None = None,
) -> ImportReport:
    """Publish every new file of ``source`` to the inbound exchange; ``advance(n)`` as ``n`` more are done.

    Raises:
        GatewayError: the transport or the store failed (files already published stay published; run
            the import again to finish: what is in the store is skipped).
    """
    report = ImportReport(str(source.path))
    seen: set[str] = set()
    pending: list[tuple[Member, bytes, str, str]] = []
    size = 0

    async def flush() -> None:
        nonlocal pending, size
        known = await ops.repo.existing([mid for _, _, mid, _ in pending])
        for member, data, message_id, filename in pending:
            entry = {"file": source.where(member.name), "id": message_id}
            if message_id in known or message_id in seen:
                report.skipped.append(entry)
                continue
            seen.add(message_id)
            if not dry_run:
                await _publish(ops, data, message_id, filename, partner=partner, source=str(source.path))
            report.imported.append(entry)
        if advance is not None:
            advance(len(pending))
        pending, size = [], 0

    for member in source.members:
        try:
            data = source.read(member)
        except GatewayError as exc:
            report.refuse(source.where(member.name), exc)
            if advance is not None:
                advance(1)
            continue
        pending.append((member, data, *import_identity(member.name, data)))
        size += len(data)
        if len(pending) >= _BATCH or size >= _BATCH_BYTES:
            await flush()
    if pending:
        await flush()
    return report


async def _publish(
    ops: Operations, data: bytes, message_id: str, filename: str, *, partner: str | None, source: str
) -> None:
    assert ops.transport is not None, "import needs a transport"
    headers: dict[str, Any] = {Headers.CHANNEL: "import", Headers.FILENAME: filename, Headers.IMPORT: source[:500]}
    if partner:
        headers[Headers.PARTNER] = partner
    envelope = Envelope(body=data, message_id=message_id, routing_key="import", headers=headers)
    await ops.transport.publish(ops.topology.exchange_in, envelope)
