"""Reading documents out of directories, zips and tars: the caps and the refusals, on real files."""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path

import pytest

from b2b_gateway.errors import InputTooLargeError, UnsafeArchiveError
from b2b_gateway.transport.archive import ArchiveLimits, open_source, unsafe_name

LIMITS = ArchiveLimits(max_member_bytes=1000, max_total_bytes=2500, max_members=10)


def _zip(path: Path, members: dict[str, bytes], *, mode: int | None = None) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            info = zipfile.ZipInfo(name)
            if mode is not None and name.startswith("link"):
                info.external_attr = mode << 16
            zf.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
    return path


def test_unsafe_names() -> None:
    assert unsafe_name("a/b.edi") is None and unsafe_name("a/..b/c") is None
    assert unsafe_name("../x") == unsafe_name("a/../../x") == "a path leaving the archive (..)"
    assert unsafe_name("a\\..\\..\\x") == "a path leaving the archive (..)"
    assert unsafe_name("/etc/passwd") == unsafe_name("C:/x") == "an absolute path"
    assert unsafe_name("a\0b") == "a NUL character in its path"


def test_the_total_cap_stops_a_zip_bomb(tmp_path: Path) -> None:
    members = {f"m{i}.edi": b"\0" * 900 for i in range(5)}
    with open_source(_zip(tmp_path / "bomb.zip", members), LIMITS) as source:
        results: list[str] = []
        for member in source.members:
            try:
                results.append(str(len(source.read(member))))
            except UnsafeArchiveError as exc:
                results.append(exc.message)
    assert results[:2] == ["900", "900"]
    assert results[2:] == [f"bomb.zip:m{i}.edi refused: over the limit of 2500 bytes in all" for i in (2, 3, 4)]


def test_declared_sizes_are_not_trusted_and_members_are_capped(tmp_path: Path) -> None:
    path = _zip(tmp_path / "lie.zip", {"big.edi": b"A" * 5000})
    data = bytearray(path.read_bytes())
    at = data.index(b"PK\x01\x02") + 24  # the central directory says 10 bytes (the local header still 5000)
    data[at : at + 4] = (10).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    with open_source(path, LIMITS) as source, pytest.raises(UnsafeArchiveError, match="cannot be read: BadZipFile"):
        source.read(source.members[0])  # never more than the cap: here the sizes disagree and the CRC fails
    honest = _zip(tmp_path / "honest.zip", {"big.edi": b"A" * 5000})
    with open_source(honest, LIMITS) as source:
        assert isinstance(source.members[0].refused, InputTooLargeError)  # refused before reading
    many = _zip(tmp_path / "many.zip", {f"{i}.edi": b"x" for i in range(12)})
    with open_source(many, LIMITS) as source:
        assert len(source.members) == 11
        refused = source.members[-1].refused
        assert refused is not None and refused.message == "many.zip:10.edi refused: over the limit of 10 members"


def test_links_and_special_files_are_refused(tmp_path: Path) -> None:
    with open_source(
        _zip(tmp_path / "l.zip", {"link": b"/etc/passwd", "ok": b"x"}, mode=stat.S_IFLNK | 0o777), LIMITS
    ) as src:
        assert [(m.name, m.refused.message if m.refused else None) for m in src.members] == [
            ("link", "l.zip:link refused: a symbolic link"),
            ("ok", None),
        ]
    root = tmp_path / "dir"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "doc.edi").write_bytes(b"UNA")
    os.mkfifo(root / "fifo")
    (root / "elsewhere").symlink_to(tmp_path, target_is_directory=True)
    (root / ".work").mkdir()
    (root / ".work" / "half.edi").write_bytes(b"x")
    with open_source(root, LIMITS) as src:
        found = {m.name: m.refused.message if m.refused else None for m in src.members}
        assert found == {
            "elsewhere": "dir/elsewhere refused: a symbolic link",
            "fifo": "dir/fifo refused: a device or special file, not a regular file",
            "sub/doc.edi": None,
        }
        assert src.read(next(m for m in src.members if m.name == "sub/doc.edi")) == b"UNA"
