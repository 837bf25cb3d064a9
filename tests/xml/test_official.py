"""Installing the official schemas and rules: from a directory or a zip, checked file by file against the
committed manifest; the manifest and the UBL tables are current; XSD errors read like advice."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from b2b_gateway.errors import OfficialSchemaError, SchemaError
from b2b_gateway.formats.xml.official import install_official, installed_status, load_manifest
from b2b_gateway.formats.xml.parser import parse_xml
from b2b_gateway.formats.xml.xsd import OfficialValidators, validate_xsd
from tests.conftest import ROOT, SHARED

REFERENCE = SHARED / "reference"


@pytest.mark.parametrize("script", ["generate_official_manifest.py", "generate_ubl_tables.py"])
def test_generated_files_are_current(script: str) -> None:
    r = subprocess.run([sys.executable, f"scripts/{script}", "--shared", str(SHARED), "--check"], cwd=ROOT, check=False)
    assert r.returncode == 0, f"stale: run scripts/{script}"


def test_install_from_directory_then_status(tmp_path: Path) -> None:
    target = tmp_path / "schemas"
    assert all(s.state == "missing" for s in installed_status(target).values())
    report = install_official(REFERENCE, target)
    manifest = load_manifest()
    assert report.installed == {g: len(files) for g, files in manifest.groups.items()} and not report.not_found
    assert all(s.state == "installed" for s in installed_status(target, verify=True).values())
    assert (target / "ubl-2.1" / "xsd" / "maindoc" / "UBL-Invoice-2.1.xsd").is_file()


def test_install_from_a_release_zip_with_only_the_ubl_schemas(tmp_path: Path) -> None:
    archive = tmp_path / "UBL-2.1.zip"
    with zipfile.ZipFile(archive, "w") as z:  # the layout of the OASIS release: UBL-2.1/xsd/...
        for path in (REFERENCE / "ubl-2.1").rglob("*.xsd"):
            z.write(path, "UBL-2.1/" + path.relative_to(REFERENCE / "ubl-2.1").as_posix())
        z.writestr("UBL-2.1/README.txt", "not installed")
    report = install_official(archive, tmp_path / "schemas")
    assert set(report.installed) == {"ubl-2.1"} and set(report.not_found) == {"cii-d16b", "en16931"}
    status = installed_status(tmp_path / "schemas", verify=True)
    assert status["ubl-2.1"].state == "installed" and status["en16931"].state == "missing"


def test_a_modified_file_is_refused_and_nothing_of_its_group_installed(tmp_path: Path) -> None:
    source = tmp_path / "src"
    (source / "en16931").mkdir(parents=True)
    for name in load_manifest().groups["en16931"]:
        (source / "en16931" / name).write_bytes((REFERENCE / "en16931" / name).read_bytes())
    (source / "en16931" / "EN16931-UBL-validation.xslt").write_bytes(b"<xsl:stylesheet/>")
    with pytest.raises(OfficialSchemaError, match="does not match the official file"):
        install_official(source, tmp_path / "schemas")
    assert not (tmp_path / "schemas" / "en16931").exists()


def test_incomplete_or_unusable_sources_are_refused(tmp_path: Path) -> None:
    partial = tmp_path / "partial" / "en16931"
    partial.mkdir(parents=True)
    (partial / "EN16931-UBL-validation.xslt").write_bytes(
        (REFERENCE / "en16931" / "EN16931-UBL-validation.xslt").read_bytes()
    )
    with pytest.raises(OfficialSchemaError, match="incomplete"):
        install_official(tmp_path / "partial", tmp_path / "schemas")
    with pytest.raises(OfficialSchemaError, match="none of the official"):
        install_official(tmp_path, tmp_path / "schemas")
    (tmp_path / "bad.zip").write_bytes(b"not a zip")
    with pytest.raises(OfficialSchemaError, match="zip"):
        install_official(tmp_path / "bad.zip", tmp_path / "schemas")


def test_corrupted_installation_is_reported(tmp_path: Path) -> None:
    target = tmp_path / "schemas"
    install_official(REFERENCE, target)
    (target / "ubl-2.1" / "xsd" / "maindoc" / "UBL-Order-2.1.xsd").write_bytes(b"changed")
    (target / "cii-d16b" / "CII" / "uncefact" / "data" / "standard" / "CrossIndustryInvoice_100pD16B.xsd").unlink()
    status = installed_status(target, verify=True)
    assert status["ubl-2.1"].state == "corrupt" and status["cii-d16b"].state == "incomplete"


def test_without_schemas_validation_says_it_is_off() -> None:
    validators = OfficialValidators(None)
    ns = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
    assert validators.xsd(ns, "Invoice") is None and validators.cen("ubl") is None
    warnings = validators.off_warnings(ns, "Invoice", invoice=True, syntax="ubl")
    assert [w.severity for w in warnings] == ["warning", "warning"]
    assert "XSD validation is off" in warnings[0].message and "EN 16931" in warnings[1].message


def test_xsd_errors_name_the_element_the_place_and_what_to_do(validators: OfficialValidators) -> None:
    data = (SHARED / "samples" / "xml" / "OpenPEPPOL_peppol-bis-invoice-3__base-example.xml").read_bytes()
    broken = data.replace(b"<cbc:IssueDate>", b"<cbc:Foo>x</cbc:Foo><cbc:IssueDate>", 1)
    tree = parse_xml(broken)
    schema = validators.xsd("urn:oasis:names:specification:ubl:schema:xsd:Invoice-2", "Invoice")
    assert schema is not None
    [err] = validate_xsd(tree, schema)
    assert isinstance(err, SchemaError)
    assert "cbc:Foo" in err.message and "not allowed here" in err.message and "{urn" not in err.message
    assert err.location.xpath == "/Invoice/cbc:Foo" and err.location.line and err.hint and "order" in err.hint
