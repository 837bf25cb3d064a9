"""Debian's Chromium driven by Playwright with the flags a sandboxed root machine needs (no downloaded browser)."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from playwright.async_api import BrowserContext, async_playwright

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _new_profile(profile: Path) -> None:
    assert shutil.which(CHROMIUM), f"{CHROMIUM} missing: scripts/ensure-services.sh installs Debian's chromium"
    profile.mkdir(parents=True, exist_ok=False)


@asynccontextmanager
async def chromium(profile: Path, *, width: int = 1360, height: int = 900) -> AsyncIterator[BrowserContext]:
    """A headless Chromium with a new, empty ``--user-data-dir`` (``profile``, created here)."""
    _new_profile(profile)
    async with async_playwright() as p:
        context = await p.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            headless=True,
            args=FLAGS,
            viewport={"width": width, "height": height},
            device_scale_factor=1,
        )
        try:
            yield context
        finally:
            await context.close()
