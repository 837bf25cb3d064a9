"""``b2b-gateway messages import``: directories, zips and tars of documents into the gateway, exactly once.

Real files and archives under tmp, the real store (SQLite) with the embedded queue or real RabbitMQ (a
private vhost); the gateway then processes what was imported.
"""

from __future__ import annotations

import io
import json
import tarfile
import zipfile
from pathlib import Path

from b2b_gateway.runtime import Gateway
from b2b_gateway.settings import AmqpSettings, Settings
from b2b_gateway.store.repository import MessageRepository
from tests.conftest import CliRunner
from tests.delivery.conftest import order, settings_for


def _partner(root: Path) -> None:
    folder = root / "mappings" / "ACME"
    folder.mkdir(parents=True)
    (folder / "partner.yaml").write_text(
        "id: ACME\nduplicates: reject\nidentifiers:\n  - value: GLN-ACME\n    kind: gln\n"
    )


def _env(settings: Settings, **extra: str) -> dict[str, str]:
    return {
        "B2B_PATHS__DATA_DIR": str(settings.paths.data_dir),
        "B2B_PATHS__MAPPINGS_DIR": str(settings.paths.mappings_dir),
        "COLUMNS": "200",
        **extra,
    }


def _backlog(root: Path) -> Path:
    """A partner's backlog: orders in nested folders, plus what an import ignores (hidden and partial files)."""
    (root / "2024" / "q1").mkdir(parents=True)
    (root / "2024" / "q1" / "po-1.json").write_bytes(order("PO-IMP-1"))
    (root / "2024" / "po-2.json").write_bytes(order("PO-IMP-2"))
    (root / "po-3.json").write_bytes(order("PO-IMP-3"))
    (root / ".hidden.json").write_bytes(order("PO-HIDDEN"))
    (root / "po-4.json.part").write_bytes(b"half a doc")
    return root


async def _states(settings: Settings, ids: list[str]) -> dict[str, str]:
    repo = await MessageRepository.open(settings)
    try:
        return {mid: (await repo.get(mid)).summary.state for mid in ids}
    finally:
        await repo.close()


async def test_a_directory_import_is_processed_once_and_a_second_import_skips_everything(
    cli: CliRunner, tmp_path: Path
) -> None:
    _partner(tmp_path)
    settings = settings_for(tmp_path)
    backlog = _backlog(tmp_path / "backlog")
    r = cli("messages", "import", str(backlog), "--partner", "ACME", "--json", env=_env(settings))
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["counts"] == {"imported": 3, "skipped": 0, "refused": 0}
    assert [i["file"] for i in report["imported"]] == [
        "backlog/po-3.json",
        "backlog/2024/po-2.json",
        "backlog/2024/q1/po-1.json",
    ]
    ids = [i["id"] for i in report["imported"]]

    processed = await Gateway(settings).run_once()
    assert sorted(m.id for m in processed) == sorted(ids)
    assert {m.channel for m in processed} == {"import"}
    assert {m.metadata["filename"] for m in processed} == {"po-1.json", "po-2.json", "po-3.json"}
    assert set((await _states(settings, ids)).values()) == {"delivered"}
    erp = sorted(json.loads(p.read_text())["document_number"] for p in settings.erp_outbox.iterdir())
    assert erp == ["PO-IMP-1", "PO-IMP-2", "PO-IMP-3"]

    r = cli("messages", "import", str(backlog), "--partner", "ACME", env=_env(settings))
    assert r.returncode == 0, r.stderr
    assert "0 file(s) imported, 3 skipped (already imported), 0 refused" in r.stderr
    assert "importing" in r.stderr  # the progress bar
    assert await Gateway(settings).run_once() == []


async def test_the_pickup_archive_imports_into_a_fresh_store_with_the_same_ids(cli: CliRunner, tmp_path: Path) -> None:
    _partner(tmp_path / "old")
    old = settings_for(tmp_path / "old")
    old.inbox.mkdir(parents=True)
    (old.inbox / "po.json").write_bytes(order("PO-ARCHIVED"))
    (first,) = await Gateway(old).run_once()
    archive = old.inbox.parent / f"{old.inbox.name}.archive"
    assert [p.name for p in archive.iterdir()] == [f"{first.id}-po.json"]

    r = cli("messages", "import", str(archive), "--json", env=_env(old))
    assert json.loads(r.stdout)["counts"] == {"imported": 0, "skipped": 1, "refused": 0}  # the same store

    _partner(tmp_path / "new")
    new = settings_for(tmp_path / "new")
    r = cli("messages", "import", str(archive), "--json", env=_env(new))
    assert [i["id"] for i in json.loads(r.stdout)["imported"]] == [first.id]
    (again,) = await Gateway(new).run_once()
    assert again.id == first.id and again.metadata["filename"] == "po.json" and again.state.value == "delivered"


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name), data, compress_type=zipfile.ZIP_DEFLATED)
    return path


async def test_unsafe_and_oversized_members_are_refused_with_where_and_why(cli: CliRunner, tmp_path: Path) -> None:
    _partner(tmp_path)
    settings = settings_for(tmp_path)
    evil = _zip(
        tmp_path / "evil.zip",
        {
            "../../etc/cron.d/evil.json": order("PO-EVIL"),
            "/abs/po.json": order("PO-ABS"),
            "orders/po-ok.json": order("PO-ZIP-OK"),
            "orders/bomb.edi": b"\0" * 600_000,  # compresses to a few hundred bytes
        },
    )
    env = _env(settings, B2B_LIMITS__MAX_DOCUMENT_BYTES="100000")
    r = cli("messages", "import", str(evil), "--partner", "ACME", env=env)
    assert r.returncode == 1, r.stderr
    assert "Traceback" not in r.stderr
    assert (
        "error[UNSAFE_ARCHIVE] evil.zip:../../etc/cron.d/evil.json refused: a path leaving the archive (..)" in r.stderr
    )
    assert "error[UNSAFE_ARCHIVE] evil.zip:/abs/po.json refused: an absolute path" in r.stderr
    assert "error[TOO_LARGE] evil.zip:orders/bomb.edi refused: 600000 bytes, over the limit of 100000 bytes" in r.stderr
    assert "--> evil.zip:orders/bomb.edi" in r.stderr
    assert "1 file(s) imported, 0 skipped (already imported), 3 refused" in r.stderr
    (done,) = await Gateway(settings).run_once()
    assert done.metadata["filename"] == "po-ok.json" and done.state.value == "delivered"

    r = cli("messages", "import", str(evil), "--json", env=env)
    report = json.loads(r.stdout)
    assert r.returncode == 1 and report["counts"] == {"imported": 0, "skipped": 1, "refused": 3}
    refused = {x["file"]: x for x in report["refused"]}
    assert refused["evil.zip:orders/bomb.edi"]["detail"]["location"] == {"file": "evil.zip:orders/bomb.edi"}

    r = cli("messages", "import", str(tmp_path / "missing.zip"), env=env)
    assert r.returncode == 1 and "missing.zip: no such file or directory" in r.stderr and "Traceback" not in r.stderr
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04 not really")
    r = cli("messages", "import", str(tmp_path / "broken.zip"), env=env)
    assert r.returncode == 1 and "not a readable zip or tar archive" in r.stderr


def _tar(path: Path, members: list[tuple[tarfile.TarInfo, bytes | None]]) -> Path:
    with tarfile.open(path, "w:gz") as tf:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            tf.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def _info(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, link
    return info


async def test_a_tar_over_rabbitmq_links_and_devices_refused(cli: CliRunner, tmp_path: Path, vhost: str) -> None:
    _partner(tmp_path)
    settings = settings_for(tmp_path, amqp={"url": vhost, "retry_delays_ms": AmqpSettings().retry_delays_ms})
    backlog = _tar(
        tmp_path / "backlog.tar.gz",
        [
            (_info("in/po-1.json"), order("PO-TAR-1")),
            (_info("in/po-2.json"), order("PO-TAR-2")),
            (_info("in/passwd", tarfile.SYMTYPE, "/etc/passwd"), None),
            (_info("in/hard", tarfile.LNKTYPE, "in/po-1.json"), None),
            (_info("in/tty", tarfile.CHRTYPE), None),
            (_info("../outside.json"), order("PO-OUT")),
        ],
    )
    env = _env(settings, B2B_AMQP__URL=vhost)
    r = cli("messages", "import", str(backlog), "--partner", "ACME", "--json", env=env)
    assert r.returncode == 1, r.stderr
    report = json.loads(r.stdout)
    assert report["counts"] == {"imported": 2, "skipped": 0, "refused": 4}
    reasons = {x["file"]: x["error"] for x in report["refused"]}
    assert reasons == {
        "backlog.tar.gz:in/passwd": "backlog.tar.gz:in/passwd refused: a symbolic link to '/etc/passwd'",
        "backlog.tar.gz:in/hard": "backlog.tar.gz:in/hard refused: a hard link to 'in/po-1.json'",
        "backlog.tar.gz:in/tty": "backlog.tar.gz:in/tty refused: a device or FIFO, not a regular file",
        "backlog.tar.gz:../outside.json": "backlog.tar.gz:../outside.json refused: a path leaving the archive (..)",
    }
    processed = await Gateway(settings).run_once()
    ids = sorted(i["id"] for i in report["imported"])
    assert sorted({m.id for m in processed}) == ids
    assert {m.partner_id for m in processed} == {"ACME"}
    assert set((await _states(settings, ids)).values()) == {"delivered"}

    r = cli("messages", "import", str(backlog), "--json", env=env)
    assert json.loads(r.stdout)["counts"] == {"imported": 0, "skipped": 2, "refused": 4}
    r = cli("queues", "--json", env=env)
    depths = {q["queue"]: q["ready"] for q in json.loads(r.stdout)["queues"]}
    assert depths["b2b.in.gateway"] == 0 and depths["b2b.erp"] == 2


async def test_a_dry_run_publishes_nothing(cli: CliRunner, tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    backlog = _backlog(tmp_path / "backlog")
    r = cli("messages", "import", str(backlog), "--dry-run", env=_env(settings))
    assert r.returncode == 0 and "3 file(s) would be imported" in r.stderr
    r = cli("queues", "--json", env=_env(settings))
    assert {q["queue"]: q["ready"] for q in json.loads(r.stdout)["queues"]}["b2b.in.gateway"] == 0
