"""XML test fixtures: the official schemas installed once per session from ../shared/reference."""

from __future__ import annotations

from pathlib import Path

import pytest

from b2b_gateway.formats.xml.official import install_official
from b2b_gateway.formats.xml.xsd import OfficialValidators
from b2b_gateway.mapping.registry import CodecRegistry, default_registry
from tests.conftest import SHARED

SAMPLES = SHARED / "samples" / "xml"


@pytest.fixture(scope="session")
def schemas_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("data") / "schemas"
    install_official(SHARED / "reference", target)
    return target


@pytest.fixture(scope="session")
def validators(schemas_dir: Path) -> OfficialValidators:
    return OfficialValidators(schemas_dir)


@pytest.fixture(scope="session")
def registry(schemas_dir: Path) -> CodecRegistry:
    return default_registry(schemas_dir=schemas_dir)
