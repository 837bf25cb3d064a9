"""docs/amqp.md and docs/asyncapi.yaml describe the topology and headers the code uses."""

from __future__ import annotations

import yaml

from b2b_gateway.settings import AmqpSettings
from b2b_gateway.transport import Headers, Topology
from tests.conftest import ROOT


def test_the_amqp_contract_names_what_the_code_declares() -> None:
    text = (ROOT / "docs" / "amqp.md").read_text()
    topo = Topology.from_settings(AmqpSettings())
    names = [*topo.exchanges, topo.exchange_dead, *topo.consumed, "<queue>.dlx", "<queue>.retry.<n>", "<queue>.dead"]
    headers = [v for k, v in vars(Headers).items() if k.isupper() and k not in ("ATTEMPT", "PICKUP")]
    missing = [n for n in [*names, *headers] if f"`{n}`" not in text]
    assert not missing, f"docs/amqp.md does not mention {missing}"


def test_the_asyncapi_file_matches() -> None:
    spec = yaml.safe_load((ROOT / "docs" / "asyncapi.yaml").read_text())
    assert spec["asyncapi"].startswith("2.")
    exchanges = {c["bindings"]["amqp"]["exchange"]["name"] for c in spec["channels"].values()}
    assert exchanges == {"b2b.in", "b2b.out", "b2b.erp", "b2b.dead"}
    erp = spec["components"]["messages"]["CanonicalDocument"]["headers"]["properties"]
    assert {Headers.IDEMPOTENCY_KEY, Headers.MESSAGE_ID, Headers.PARTNER, Headers.DOCUMENT_TYPE} <= set(erp)
