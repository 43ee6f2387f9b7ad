"""Runs the server until SIGINT/SIGTERM; `server.restart` starts it afresh in-process,
keeping the listening sockets."""

from __future__ import annotations

import asyncio
import logging
import signal
import socket

from gateway.app import Server, ServerOptions, bind_sockets
from gateway.logs import LogManager

log = logging.getLogger(__name__)


async def serve(options: ServerOptions, logs: LogManager) -> None:
    sockets: list[socket.socket] | None = None
    loop = asyncio.get_running_loop()
    while True:
        server = Server(options, logs)
        if sockets is None:
            cfg = server.server_config
            sockets = bind_sockets(cfg.host, cfg.port)
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, server.request_stop)
        try:
            await server.start(sockets)
            await server.wait_stopped()
        finally:
            log.info("Skysail stopping")
            await server.stop()
        if not server.restart_requested:
            break
        log.info("Skysail restarting")
    for sock in sockets or []:
        sock.close()
