"""Runs the server until SIGINT/SIGTERM; `server.restart` starts it afresh in-process,
keeping the listening sockets."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from collections.abc import Callable

from gateway.app import Server, ServerOptions
from gateway.carry import CarryOver
from gateway.logs import LogManager
from gateway.transports.listener import Listener

log = logging.getLogger(__name__)


async def serve(
    options: ServerOptions,
    logs: LogManager,
    on_started: Callable[[Server], None] | None = None,
) -> None:
    """`on_started` sees each server generation once it listens (tests)."""
    listener: Listener | None = None
    loop = asyncio.get_running_loop()
    # the serial link and a running print go from one generation to the next
    carry = CarryOver()
    while True:
        server = Server(options, logs, carry)
        if listener is None:
            cfg = server.server_config
            listener = Listener.inherited() or Listener.bind(cfg.host, cfg.port)
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, server.request_stop)
        try:
            await server.start(listener)
            if on_started is not None:
                on_started(server)
            await server.wait_stopped()
        finally:
            log.info("Skysail stopping")
            await server.stop()
            if not server.restart_requested:
                await carry.close()
        if server.exec_argv is not None:
            await carry.close()  # a new program: nothing of this one goes on
            exec_new_version(server.exec_argv, listener)
        if not server.restart_requested:
            break
        log.info("Skysail restarting")
    if listener is not None:
        listener.close()


def exec_new_version(argv: list[str], listener: Listener) -> None:
    """Become `argv` (an upgraded or rolled back Skysail) with the listening sockets;
    returns only if the exec failed (the caller then restarts in-process)."""
    log.info("Skysail starting %s", argv[0])
    env = dict(os.environ, **listener.hand_over())
    for handler in logging.getLogger().handlers:
        handler.flush()
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execve(argv[0], argv, env)
    except OSError as exc:
        log.error("could not start %s (%s); restarting this version", argv[0], exc)
        for sock in listener.sockets:
            sock.set_inheritable(False)
