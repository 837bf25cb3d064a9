from __future__ import annotations

import httpx
from fastapi import APIRouter

from b2b_gateway.api import create_app


async def test_liveness_and_mounted_routers() -> None:
    extra = APIRouter()

    @extra.get("/ping")
    async def ping() -> dict[str, str]:
        return {"pong": "yes"}

    app = create_app([extra])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        assert (await client.get("/healthz")).text == "ok\n"
        assert (await client.get("/ping")).json() == {"pong": "yes"}
        assert (await client.get("/api/openapi.json")).status_code == 200
