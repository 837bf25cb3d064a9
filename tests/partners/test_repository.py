"""Loading partners with located errors, and reloading them while the gateway runs."""

from __future__ import annotations

import os
from pathlib import Path

from b2b_gateway.errors import PartnerConfigError
from b2b_gateway.partners.loader import load_profile
from b2b_gateway.partners.repository import PartnerRepository
from tests.partners.conftest import write

PROFILE = """
    id: ACME
    name: {name}
    identifiers:
      - {{value: ACME, kind: edifact, qualifier: ZZZ}}
    documents:
      - {{document: order, direction: inbound, format: edifact}}
"""


def _touch_later(path: Path) -> None:
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))


def test_a_profile_error_gives_file_line_and_column(tmp_path: Path) -> None:
    path = write(
        tmp_path / "partner.yaml", "id: ACME\ndocuments:\n  - {document: order, direction: sideways, format: edifact}\n"
    )
    profile, _, errors = load_profile(path, shown="mappings/ACME/partner.yaml")
    assert profile is None
    assert len(errors) == 1 and isinstance(errors[0], PartnerConfigError)
    loc = errors[0].location
    assert (loc.file, loc.line, loc.column) == ("mappings/ACME/partner.yaml", 3, 34)
    assert "documents.0.direction" in errors[0].message and "'inbound' or 'outbound'" in errors[0].message


def test_missing_files_and_certificates_are_reported(mappings_dir: Path, tmp_path: Path) -> None:
    write(
        mappings_dir / "ACME" / "partner.yaml",
        """
        id: ACME
        documents:
          - {document: order, direction: inbound, format: edifact, mapping: nowhere.yaml}
        security: {certificates: [acme-2026]}
        """,
    )
    (tmp_path / "certs").mkdir()
    repo = PartnerRepository.load(mappings_dir, certs_dir=tmp_path / "certs")
    assert "ACME" not in repo.bundles
    messages = {e.message: e for e in repo.problems["ACME"]}
    assert messages["mapping file 'nowhere.yaml' does not exist"].location.line == 3
    cert = next(e for e in repo.problems["ACME"] if "certificate 'acme-2026'" in e.message)
    assert cert.severity == "warning" and cert.location.line == 4
    (tmp_path / "certs" / "acme-2026.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    write(
        mappings_dir / "ACME" / "nowhere.yaml",
        "document: order\nformat: edifact\ndirection: inbound\nmessage: ORDERS\nfields: {}\n",
    )
    assert repo.refresh().loaded == ["ACME"]
    assert repo.problems["ACME"] == []


def test_hot_reload_takes_a_valid_change_and_keeps_the_old_profile_on_an_invalid_one(mappings_dir: Path) -> None:
    path = write(mappings_dir / "ACME" / "partner.yaml", PROFILE.format(name="Acme One"))
    repo = PartnerRepository.load(mappings_dir, reload_interval_s=0)
    live = repo.directory
    assert live.get("ACME") is not None and live.get("ACME").name == "Acme One"  # type: ignore[union-attr]

    write(path, PROFILE.format(name="Acme Two"))
    _touch_later(path)
    assert live.get("ACME").name == "Acme Two"  # type: ignore[union-attr]  # picked up on the next look

    write(path, PROFILE.format(name="Acme Three").replace("format: edifact", "format: telex"))
    _touch_later(path)
    report = repo.refresh()
    assert report.kept == ["ACME"] and not report.loaded
    assert live.get("ACME").name == "Acme Two"  # type: ignore[union-attr]  # the old version stays
    why = repo.problems["ACME"][0]
    assert why.location.file and why.location.file.endswith("ACME/partner.yaml") and why.location.line == 6

    write(mappings_dir / "NEWCO" / "partner.yaml", PROFILE.format(name="New").replace("ACME", "NEWCO"))
    assert repo.refresh().loaded == ["NEWCO"]
    assert live.find("NEWCO", "ZZZ", "edifact") is not None

    (mappings_dir / "NEWCO" / "partner.yaml").unlink()
    (mappings_dir / "NEWCO").rmdir()
    assert repo.refresh().removed == ["NEWCO"]
    assert live.get("NEWCO") is None


def test_a_mapping_change_reaches_the_catalog(mappings_dir: Path) -> None:
    write(
        mappings_dir / "SHOP" / "partner.yaml",
        "id: SHOP\ndocuments:\n  - {document: order, direction: inbound, format: json, mapping: order.yaml}\n",
    )
    mapping = write(
        mappings_dir / "SHOP" / "order.yaml",
        "document: order\nformat: json\ndirection: inbound\nfields:\n  document_number: id\n",
    )
    repo = PartnerRepository.load(mappings_dir, reload_interval_s=0)
    first = repo.catalog().mapping_for("SHOP", "order", "inbound", "json")
    assert first is not None
    write(mapping, "document: order\nformat: json\ndirection: inbound\nfields:\n  document_number: number\n")
    _touch_later(mapping)
    second = repo.catalog().mapping_for("SHOP", "order", "inbound", "json")
    assert second is not None and second is not first
    write(mapping, "document: order\nformat: json\ndirection: inbound\nfields:\n  document_number: {pth: x}\n")
    _touch_later(mapping)
    assert repo.catalog().mapping_for("SHOP", "order", "inbound", "json") is second
    assert repo.problems["SHOP"][0].location.line == 5


def test_a_narrowing_that_widens_the_directory_is_refused_at_load(mappings_dir: Path) -> None:
    write(
        mappings_dir / "ACME" / "partner.yaml",
        """
        id: ACME
        documents:
          - {document: order, direction: inbound, format: edifact, version: D96A}
        narrowing:
          - {message: ORDERS, path: BGM/C002/1001, max_length: 99}
        """,
    )
    repo = PartnerRepository.load(mappings_dir)
    assert "ACME" not in repo.bundles
    problems = [e for e in repo.problems["ACME"] if e.severity == "error"]
    assert problems and all(isinstance(p, PartnerConfigError) for p in problems)
    assert all("max_length 99 is more than the directory's an..3" in p.message for p in problems)
    assert {p.location.line for p in problems} == {5}
