"""Run one of the local test servers by hand until Ctrl-C or `kill`, then stop it and remove its files."""

from __future__ import annotations

import signal
import time
from typing import Protocol


class Server(Protocol):
    def start(self) -> str: ...
    def stop(self) -> None: ...


def serve_until_stopped(server: Server) -> None:
    def _interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt  # `kill` stops the server too, not only Ctrl-C

    signal.signal(signal.SIGTERM, _interrupt)
    try:
        print(server.start(), flush=True)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
