"""A real uvicorn server on 127.0.0.1 with an OS-chosen port, in a thread, for HTTP(S) tests."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn


@contextmanager
def running(app: Any = None, *, config: uvicorn.Config | None = None) -> Iterator[str]:
    """Serve ``app`` (or ``config``, whose host and port are forced to 127.0.0.1:0); yield the base URL."""
    if config is None:
        config = uvicorn.Config(app, log_config=None)
    config.host, config.port, config.lifespan = "127.0.0.1", 0, "off"
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="test-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    scheme = "https" if config.is_ssl else "http"
    try:
        yield f"{scheme}://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)


def free_port() -> int:
    """A port free on 127.0.0.1 now (for a separate process that needs one on its command line)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
