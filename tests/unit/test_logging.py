from __future__ import annotations

import asyncio
import io
import json

import pytest

from b2b_gateway.observability.logging import configure_logging, get_logger, message_context
from b2b_gateway.settings import LoggingSettings


def test_json_lines_with_message_context_and_redaction() -> None:
    out = io.StringIO()
    configure_logging(LoggingSettings(format="json", level="DEBUG"), secrets=["s3cr3t-passphrase"], stream=out)
    log = get_logger("t")
    with message_context(message_id="m1", correlation_id="c1", partner="ACME", stage="decode"):
        log.info("decoded", detail="key s3cr3t-passphrase leaked?", password="pw", nested={"token": "abc"})
    log.info("outside")
    lines = [json.loads(x) for x in out.getvalue().splitlines()]
    first, second = lines
    assert first["event"] == "decoded"
    assert (first["message_id"], first["correlation_id"], first["partner"], first["stage"]) == (
        "m1",
        "c1",
        "ACME",
        "decode",
    )
    assert "s3cr3t-passphrase" not in out.getvalue()
    assert first["password"] == "***" and first["nested"]["token"] == "***"
    assert "message_id" not in second


def test_message_contexts_nest_and_an_events_own_keys_win() -> None:
    out = io.StringIO()
    configure_logging(LoggingSettings(format="json", level="DEBUG"), stream=out)
    log = get_logger("t")
    with message_context(message_id="m1", partner="ACME", stage=None):
        with message_context(stage="map", partner="OTHER"):
            log.info("inner")
            log.info("own", stage="explicit")
        log.info("outer")
    inner, own, outer = (json.loads(x) for x in out.getvalue().splitlines())
    assert (inner["message_id"], inner["partner"], inner["stage"]) == ("m1", "OTHER", "map")
    assert own["stage"] == "explicit"
    assert (outer["partner"], "stage" in outer) == ("ACME", False)


def test_a_block_left_by_an_exception_or_in_another_task_takes_its_fields_away() -> None:
    out = io.StringIO()
    configure_logging(LoggingSettings(format="json", level="DEBUG"), stream=out)
    log = get_logger("t")

    async def elsewhere(stage: str) -> None:
        with message_context(stage=stage):
            await asyncio.sleep(0)
            log.info("task", own=stage)

    async def both() -> None:
        with message_context(message_id="m1"):
            await asyncio.gather(elsewhere("a"), elsewhere("b"))
            log.info("after tasks")

    with pytest.raises(ValueError), message_context(message_id="m0", stage="map"):
        raise ValueError("boom")
    log.info("after error")
    asyncio.run(both())
    after_error, *tasks, after_tasks = (json.loads(x) for x in out.getvalue().splitlines())
    assert "message_id" not in after_error and "stage" not in after_error
    assert sorted((t["message_id"], t["stage"], t["own"]) for t in tasks) == [("m1", "a", "a"), ("m1", "b", "b")]
    assert after_tasks["message_id"] == "m1" and "stage" not in after_tasks


def test_console_renderer_when_asked() -> None:
    out = io.StringIO()
    configure_logging(LoggingSettings(format="console"), stream=out)
    get_logger().warning("hello", partner="X")
    assert "hello" in out.getvalue() and "partner" in out.getvalue()
    assert not out.getvalue().lstrip().startswith("{")
