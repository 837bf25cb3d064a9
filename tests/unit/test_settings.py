from __future__ import annotations

from pathlib import Path

import pytest

from b2b_gateway.errors import SettingsError
from b2b_gateway.settings import Settings, load_settings, read_secret


def test_defaults_need_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("B2B_CONFIG", raising=False)
    s = load_settings()
    assert s.inbox == Path("var/in") and s.erp_outbox == Path("var/erp")
    assert s.store.resolved_url(s.paths).startswith("sqlite+aiosqlite:///var/")
    assert s.amqp.url is None


def test_toml_file_and_environment_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "gateway.toml"
    cfg.write_text('company_id = "EURODIS"\n[amqp]\nprefetch = 10\nexchange_erp = "erp.x"\n')
    monkeypatch.setenv("B2B_AMQP__PREFETCH", "42")
    s = load_settings(cfg)
    assert s.company_id == "EURODIS"
    assert s.amqp.exchange_erp == "erp.x"
    assert s.amqp.prefetch == 42  # environment wins over the file


def test_config_file_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "g.toml"
    cfg.write_text("[http]\nport = 9999\n")
    monkeypatch.setenv("B2B_CONFIG", str(cfg))
    assert load_settings().http.port == 9999


def test_invalid_value_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("B2B_AMQP__PREFETCH", "lots")
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert "amqp.prefetch" in info.value.message
    assert "B2B_AMQP__PREFETCH" in (info.value.hint or "")


def test_unknown_key_in_file_is_an_error(tmp_path: Path) -> None:
    cfg = tmp_path / "g.toml"
    cfg.write_text("[amqp]\nprefecth = 3\n")
    with pytest.raises(SettingsError) as info:
        load_settings(cfg)
    assert info.value.location.file == str(cfg)


def test_broken_toml_is_located(tmp_path: Path) -> None:
    cfg = tmp_path / "g.toml"
    cfg.write_text("company_id = \n")
    with pytest.raises(SettingsError, match="invalid TOML"):
        load_settings(cfg)


def test_secrets_never_show(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("B2B_AMQP__URL", "amqp://user:hunter2-secret@host/")
    s = load_settings()
    assert "hunter2" not in repr(s) and "hunter2" not in str(s.model_dump())
    f = tmp_path / "pass"
    f.write_text("from-a-file\n")
    assert read_secret(None, f) == "from-a-file"
    with pytest.raises(SettingsError):
        read_secret(None, tmp_path / "missing")


def test_settings_are_immutable_values() -> None:
    s = Settings()
    with pytest.raises(Exception):
        s.company_id = "X"  # type: ignore[misc]
