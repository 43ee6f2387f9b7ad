"""Runs the server until SIGINT/SIGTERM; `server.restart` starts it afresh in-process,
keeping the listening sockets."""

from __future__ import annotations

import asyncio
import logging
import signal

from gateway.app import Server, ServerOptions
from gateway.logs import LogManager
from gateway.transports.listener import Listener

log = logging.getLogger(__name__)


async def serve(options: ServerOptions, logs: LogManager) -> None:
    listener: Listener | None = None
    loop = asyncio.get_running_loop()
    while True:
        server = Server(options, logs)
        if listener is None:
            cfg = server.server_config
            listener = Listener.bind(cfg.host, cfg.port)
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, server.request_stop)
        try:
            await server.start(listener)
            await server.wait_stopped()
        finally:
            log.info("Skysail stopping")
            await server.stop()
        if not server.restart_requested:
            break
        log.info("Skysail restarting")
    if listener is not None:
        listener.close()
