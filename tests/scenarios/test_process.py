"""The buying conversation with ``b2b-gateway run`` as a real process: the command line mounts AS2 and the
conversation API on the gateway's HTTP server (``attach_edges``), as a deployment runs it."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.delivery.drills import GatewayProcess
from tests.scenarios.harness import API_TOKEN, PASSPHRASE, Erp, as2_profile, copy_mappings, purchase_order, signing_key
from tests.scenarios.mocks import MockEdi, eventually, free_port


async def test_order_to_cash_with_the_run_command(tmp_path: Path, vhost: str) -> None:
    mock = MockEdi.start("--start-at", "2026-11-02T09:00:00Z", log=tmp_path / "mock-edi.log")
    port = free_port()
    prefix = f"p{port}."
    copy_mappings(tmp_path / "mappings", {"MOCKEDI": as2_profile("MOCKEDI", mock.url)})
    signing_key(tmp_path / "certs")
    names = {
        "EXCHANGE_IN": "b2b.in",
        "EXCHANGE_OUT": "b2b.out",
        "EXCHANGE_ERP": "b2b.erp",
        "EXCHANGE_DEAD": "b2b.dead",
        "QUEUE_IN": "b2b.in.gateway",
        "QUEUE_OUT": "b2b.out.gateway",
        "QUEUE_ERP": "b2b.erp",
    }
    env = {
        "B2B_COMPANY_ID": "EURODIS",
        "B2B_AMQP__URL": vhost,
        **{f"B2B_AMQP__{k}": prefix + v for k, v in names.items()},
        "B2B_PATHS__DATA_DIR": str(tmp_path / "var"),
        "B2B_PATHS__MAPPINGS_DIR": str(tmp_path / "mappings"),
        "B2B_PATHS__CERTS_DIR": str(tmp_path / "certs"),
        "B2B_HTTP__PORT": str(port),
        "B2B_SECURITY__API_TOKEN": API_TOKEN,
        "B2B_SECURITY__KEY_PASSPHRASE": PASSPHRASE,
        "B2B_DELIVERY__POLL_INTERVAL_S": "0.1",
    }
    gateway = GatewayProcess(tmp_path / "run", env)
    erp = Erp(vhost, prefix)
    try:
        gateway.start()
        await gateway.started()
        url = f"http://127.0.0.1:{port}"
        await mock.partner("EURODIS", as2_url=url + "/as2")
        await erp.start()
        await erp.publish(purchase_order("PO-RUN-1"), "MOCKEDI", "erp-po-run-1")
        await erp.wait("mock-edi's four documents", status=1, order_response=1, despatch_advice=1, invoice=1)
        async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {API_TOKEN}"}) as client:

            async def timeline() -> dict[str, object]:
                reply = await client.get("/api/v1/orders/PO-RUN-1/timeline")
                assert reply.status_code == 200, reply.text
                return dict(reply.json())

            found = await eventually(timeline, lambda t: all(t["milestones"].values()), "the whole conversation")  # type: ignore[union-attr]
            assert len(found["entries"]) == 5  # type: ignore[arg-type]
            refused = await client.get("/api/v1/orders/PO-RUN-1/timeline", headers={"Authorization": "Bearer nope"})
            assert refused.status_code == 401
        await eventually(mock.unacknowledged, lambda rows: not rows, "our CONTRLs at mock-edi")
        events = [json.loads(line) for line in gateway.log.read_text().splitlines() if line.startswith("{")]
        assert any(e["event"] == "as2.received" and e.get("partner") == "MOCKEDI" for e in events)
    finally:
        await erp.close()
        assert gateway.stop() == 0
        await mock.close()
