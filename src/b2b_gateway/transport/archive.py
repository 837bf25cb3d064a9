"""Documents out of a directory tree, a zip or a tar archive (``.tar``, ``.tar.gz``, ``.tgz`` …), read safely.

What ``b2b-gateway messages import`` takes in: an old pickup archive (``var/in.archive``), a partner's
backlog. Nothing is extracted to disk; each member is read into memory, and only if it is safe:

* a member whose path is absolute or climbs out (``..``), a link (symbolic or hard), a device, a FIFO
  or anything else than a regular file is refused (:class:`~b2b_gateway.errors.UnsafeArchiveError`);
* a member over ``max_member_bytes`` is refused (:class:`~b2b_gateway.errors.InputTooLargeError`),
  judged by the bytes actually decompressed, never by the size the archive declares;
* at most ``max_total_bytes`` are decompressed from one source and at most ``max_members`` members are
  listed (a zip bomb stops there: every member after the cap is refused).

Hidden files and folders (``.work/``, ``.x.tmp``), partial downloads (``.part``, ``.tmp`` …), the
error reports of a pickup error directory (``*.errors.json``) and ``__MACOSX/`` are ignored.

Example:
    >>> with open_source(Path("backlog.zip"), ArchiveLimits(1 << 20, 1 << 30, 10_000)) as source:  # doctest: +SKIP
    ...     for member in source.members:
    ...         data = source.read(member)
"""

from __future__ import annotations

import abc
import os
import re
import stat
import tarfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import IO

from b2b_gateway.errors import GatewayError, InputTooLargeError, Location, UnsafeArchiveError

__all__ = ["ArchiveLimits", "DocumentSource", "Member", "open_source"]

_IGNORED_SUFFIXES = (".tmp", ".part", ".partial", ".filepart", ".crdownload", ".errors.json")
_DRIVE = re.compile(r"^[A-Za-z]:")
_READ_ERRORS = (OSError, EOFError, zlib.error, zipfile.BadZipFile, tarfile.TarError, NotImplementedError, RuntimeError)


@dataclass(frozen=True, slots=True)
class ArchiveLimits:
    """Caps on what one source may make the gateway read."""

    max_member_bytes: int
    max_total_bytes: int
    max_members: int


@dataclass(frozen=True, slots=True)
class Member:
    """One file of a source: its path inside the source (``/``-separated) and its declared size.

    ``refused`` is set when the member is known to be unsafe before anything is read.
    """

    name: str
    size: int = 0
    refused: GatewayError | None = None


def unsafe_name(name: str) -> str | None:
    """Why a member path is unsafe to use (absolute, a drive, ``..``, a NUL), or ``None``."""
    text = name.replace("\\", "/")
    if not text.strip("/"):
        return "an empty path"
    if "\0" in text:
        return "a NUL character in its path"
    if text.startswith("/") or _DRIVE.match(text):
        return "an absolute path"
    if ".." in PurePosixPath(text).parts:
        return "a path leaving the archive (..)"
    return None


def ignored(name: str) -> bool:
    """Hidden files and folders, partial downloads, error reports and macOS resource forks."""
    parts = PurePosixPath(name.replace("\\", "/")).parts
    hidden = any((p.startswith(".") and p not in (".", "..")) or p == "__MACOSX" for p in parts)
    return unsafe_name(name) is None and (hidden or name.endswith(_IGNORED_SUFFIXES))


class DocumentSource(abc.ABC):
    """A directory or an archive, listed once (:attr:`members`), read member by member within the caps."""

    kind: str = "source"

    def __init__(self, path: Path, limits: ArchiveLimits) -> None:
        self.path = path
        self.limits = limits
        self.members: list[Member] = []
        self.read_bytes = 0

    def where(self, name: str) -> str:
        """A member's location for messages: ``backlog.zip:orders/o1.edi``."""
        return f"{self.path.name}:{name}"

    def refusal(self, name: str, reason: str) -> UnsafeArchiveError:
        """The error refusing member ``name`` for ``reason``."""
        return UnsafeArchiveError(f"{self.where(name)} refused: {reason}", location=Location(file=self.where(name)))

    def refuse(self, name: str, reason: str) -> Member:
        """A member refused for ``reason``."""
        return Member(name, 0, self.refusal(name, reason))

    def _too_large(self, name: str, size: str) -> InputTooLargeError:
        return InputTooLargeError(
            f"{self.where(name)} refused: {size} bytes, over the limit of {self.limits.max_member_bytes} bytes",
            location=Location(file=self.where(name)),
            hint="raise limits.max_document_bytes (B2B_LIMITS__MAX_DOCUMENT_BYTES) if the document is genuine",
        )

    def _add(self, member: Member) -> bool:
        """List a member (refusing it when the member cap is reached); ``False`` once the caps are used up."""
        if len(self.members) >= self.limits.max_members:
            self.members.append(self.refuse(member.name, f"over the limit of {self.limits.max_members} members"))
            return False
        if member.refused is None and member.size > self.limits.max_member_bytes:
            member = Member(member.name, member.size, self._too_large(member.name, str(member.size)))
        self.members.append(member)
        return True

    def read(self, member: Member) -> bytes:
        """The member's bytes.

        Raises:
            UnsafeArchiveError: the member is unsafe, cannot be read, or the total cap is reached.
            InputTooLargeError: the member is over the per-member limit.
        """
        if member.refused is not None:
            raise member.refused
        budget = self.limits.max_total_bytes - self.read_bytes
        if budget <= 0:
            raise self.refusal(member.name, f"over the limit of {self.limits.max_total_bytes} bytes in all")
        cap = min(self.limits.max_member_bytes, budget)
        try:
            with self._open(member) as fh:
                data = fh.read(cap + 1)
        except GatewayError:
            raise
        except _READ_ERRORS as exc:
            raise self.refusal(member.name, f"cannot be read: {type(exc).__name__}: {exc}") from None
        self.read_bytes += len(data)
        if len(data) > self.limits.max_member_bytes:
            raise self._too_large(member.name, f"more than {self.limits.max_member_bytes}")
        if len(data) > cap:
            raise self.refusal(member.name, f"over the limit of {self.limits.max_total_bytes} bytes in all")
        return data

    @abc.abstractmethod
    def _open(self, member: Member) -> IO[bytes]: ...

    def close(self) -> None:  # noqa: B027 (a directory has nothing to release)
        """Release the archive file."""

    def __enter__(self) -> DocumentSource:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


class DirectorySource(DocumentSource):
    """A directory tree, walked without following links; links and special files are refused."""

    kind = "directory"

    def __init__(self, path: Path, limits: ArchiveLimits) -> None:
        super().__init__(path, limits)
        for dirpath, dirnames, filenames in os.walk(path, followlinks=False):
            base = Path(dirpath)
            for name in sorted(dirnames):
                rel = (base / name).relative_to(path).as_posix()
                if (base / name).is_symlink() and not ignored(rel):
                    self._add(self.refuse(rel, "a symbolic link"))
            dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and not (base / d).is_symlink())
            for name in sorted(filenames):
                rel = (base / name).relative_to(path).as_posix()
                if ignored(rel):
                    continue
                st = os.lstat(base / name)
                if stat.S_ISLNK(st.st_mode):
                    member = self.refuse(rel, "a symbolic link")
                elif not stat.S_ISREG(st.st_mode):
                    member = self.refuse(rel, "a device or special file, not a regular file")
                else:
                    member = Member(rel, st.st_size)
                if not self._add(member):
                    return

    def where(self, name: str) -> str:
        return f"{self.path.name}/{name}"

    def _open(self, member: Member) -> IO[bytes]:
        fd = os.open(self.path / member.name, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        return os.fdopen(fd, "rb")


class ZipSource(DocumentSource):
    """A zip archive; sizes are checked on the decompressed bytes (the directory may lie)."""

    kind = "zip"

    def __init__(self, path: Path, limits: ArchiveLimits) -> None:
        super().__init__(path, limits)
        self.zip = zipfile.ZipFile(path)
        for info in self.zip.infolist():
            if info.is_dir() or ignored(info.filename):
                continue
            mode = info.external_attr >> 16
            reason = unsafe_name(info.filename)
            if reason is None and stat.S_ISLNK(mode):
                reason = "a symbolic link"
            elif reason is None and stat.S_IFMT(mode) not in (0, stat.S_IFREG):
                reason = "a device or special file, not a regular file"
            elif reason is None and info.flag_bits & 0x1:
                reason = "encrypted"
            member = self.refuse(info.filename, reason) if reason else Member(info.filename, info.file_size)
            if not self._add(member):
                return

    def _open(self, member: Member) -> IO[bytes]:
        return self.zip.open(member.name)

    def close(self) -> None:
        self.zip.close()


class TarSource(DocumentSource):
    """A tar archive, plain or compressed (gzip, bzip2, xz): regular files only."""

    kind = "tar"

    def __init__(self, path: Path, limits: ArchiveLimits) -> None:
        super().__init__(path, limits)
        self.tar = tarfile.open(path, "r:*")  # noqa: SIM115 (closed by close())
        self.infos: dict[str, tarfile.TarInfo] = {}
        declared = 0
        for info in self.tar:
            if info.isdir() or ignored(info.name):
                continue
            reason = unsafe_name(info.name)
            if reason is None and (info.issym() or info.islnk()):
                reason = f"a {'symbolic' if info.issym() else 'hard'} link to {info.linkname!r}"
            elif reason is None and (info.ischr() or info.isblk() or info.isfifo()):
                reason = "a device or FIFO, not a regular file"
            elif reason is None and not info.isreg():
                reason = "not a regular file"
            declared += info.size if reason is None else 0
            if reason is None and declared > limits.max_total_bytes:
                self._add(self.refuse(info.name, f"over the limit of {limits.max_total_bytes} bytes in all"))
                return
            if reason is None and info.name in self.infos:
                reason = "a second member with the same path"
            member = self.refuse(info.name, reason) if reason else Member(info.name, info.size)
            if member.refused is None:
                self.infos[info.name] = info
            if not self._add(member):
                return

    def _open(self, member: Member) -> IO[bytes]:
        fh = self.tar.extractfile(self.infos[member.name])
        if fh is None:
            raise tarfile.TarError("not a regular file")
        return fh

    def close(self) -> None:
        self.tar.close()


class _Single(DocumentSource):
    """One plain file (not an archive): itself as the only member."""

    kind = "file"

    def __init__(self, path: Path, limits: ArchiveLimits) -> None:
        super().__init__(path, limits)
        self._add(Member(path.name, path.stat().st_size))

    def where(self, name: str) -> str:
        return str(self.path)

    def _open(self, member: Member) -> IO[bytes]:
        return self.path.open("rb")


_ARCHIVE_SUFFIXES = (".zip", ".tar", ".tgz", ".tar.gz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")


def open_source(path: Path, limits: ArchiveLimits) -> DocumentSource:
    """The directory, archive or single file at ``path``, listed (close it, or use it as a context manager).

    Raises:
        UnsafeArchiveError: ``path`` is missing, or an archive that cannot be read.
    """
    where = Location(file=str(path))
    try:
        if path.is_dir():
            return DirectorySource(path, limits)
        if not path.is_file():
            raise UnsafeArchiveError(f"{path}: no such file or directory", location=where)
        if zipfile.is_zipfile(path):
            return ZipSource(path, limits)
        if tarfile.is_tarfile(path):
            return TarSource(path, limits)
        if path.name.lower().endswith(_ARCHIVE_SUFFIXES):
            raise UnsafeArchiveError(f"{path}: not a readable zip or tar archive", location=where)
        return _Single(path, limits)
    except _READ_ERRORS as exc:
        raise UnsafeArchiveError(f"{path}: cannot be read: {type(exc).__name__}: {exc}", location=where) from None
