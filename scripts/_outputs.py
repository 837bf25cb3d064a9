"""Write a script's generated files, or (``--check``) say which committed ones are stale.

Every ``scripts/generate_*.py`` and ``scripts/capture_*.py`` ends in :func:`write_or_check`: the tests
run them with ``--check`` and fail when a committed artifact no longer matches what its script makes.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _shown(path: Path) -> Path:
    return path.relative_to(ROOT) if path.is_relative_to(ROOT) else path


def write_or_check(outputs: Mapping[Path, str | bytes], *, check: bool, script: str) -> int:
    """Write ``outputs`` (path → content), or with ``check`` compare them; the exit status (1 if stale)."""
    stale: list[Path] = []
    for path, content in outputs.items():
        data = content.encode("utf-8") if isinstance(content, str) else content
        if check:
            if not path.is_file() or path.read_bytes() != data:
                stale.append(path)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        print(f"wrote {_shown(path)}")
    for path in stale:
        print(f"stale: {_shown(path)} (run python scripts/{script})", file=sys.stderr)
    return 1 if stale else 0
