"""Connections before any request is read (issue 17.4): how many an untrusted address may
hold open, how long a client may take to send its headers or sit idle, and accepting
without spinning (or flooding the log) when the process runs out of file descriptors.

* **Caps**: open HTTP connections per untrusted peer address (per /64 for IPv6, which
  clients own whole) and from all untrusted peers together. A connection over a cap is
  closed as soon as it is accepted, before a byte is read. Trusted peers (including a
  trusted reverse proxy) are not capped: they must keep getting answers.
* **Timeouts**: a new connection must deliver its first request's headers within
  `header_timeout`; between requests (keep-alive) and while a request body is arriving,
  a connection may be silent for at most `idle_timeout`. A handler at work (a long
  G-code command, a download being written) is never cut.
* **Accept**: on EMFILE/ENFILE (or ENOBUFS/ENOMEM) accepting pauses for a moment (the
  listening socket stays readable, so accepting in a loop would spin at 100 % CPU) and
  one warning is logged per pause, not one per attempt.

Websockets leave this bookkeeping when they are upgraded (their own limits apply).
"""

from __future__ import annotations

import errno
import ipaddress
import logging
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import tornado.httpserver
from tornado.httputil import (
    HTTPConnection,
    HTTPHeaders,
    HTTPMessageDelegate,
    RequestStartLine,
    ResponseStartLine,
)
from tornado.ioloop import IOLoop, PeriodicCallback
from tornado.iostream import IOStream

from gateway.transports.headlimit import AnsweringStream

log = logging.getLogger(__name__)

SWEEP_INTERVAL = 1.0
ACCEPT_BATCH = 128
# how long accepting pauses when file descriptors run out
ACCEPT_PAUSE = 0.25
_OUT_OF_RESOURCES = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}
# at most one "refused" warning per address key in this many seconds
REFUSAL_LOG_INTERVAL = 60.0


@dataclass(slots=True)
class GuardSettings:
    header_timeout: float = 20.0
    idle_timeout: float = 120.0
    per_address: int = 64
    untrusted_total: int = 512


def address_key(ip: str) -> str:
    """Connections are counted per address, per /64 for IPv6."""
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if isinstance(addr, ipaddress.IPv6Address):
        if addr.ipv4_mapped is not None:
            return str(addr.ipv4_mapped)
        return str(ipaddress.ip_network(f"{addr}/64", strict=False))
    return str(addr)


class _Watch:
    """What one connection is doing, for the sweep."""

    __slots__ = ("body_since", "first", "key", "waiting_since")

    def __init__(self, key: str | None, now: float) -> None:
        self.key = key  # None: a trusted peer (not counted)
        self.first = True
        self.waiting_since: float | None = now  # awaiting a request's headers
        self.body_since: float | None = None  # receiving a body: last data seen


class _WatchedMessage(HTTPMessageDelegate):
    """Passes everything on; notes when headers came and when body data arrives."""

    __slots__ = ("inner", "watch")

    def __init__(self, inner: HTTPMessageDelegate, watch: _Watch) -> None:
        self.inner = inner
        self.watch = watch

    def headers_received(self, start_line: RequestStartLine | ResponseStartLine,
                         headers: HTTPHeaders) -> Awaitable[None] | None:
        watch = self.watch
        watch.first = False
        watch.waiting_since = None
        watch.body_since = time.monotonic()
        return self.inner.headers_received(start_line, headers)

    def data_received(self, chunk: bytes) -> Awaitable[None] | None:
        self.watch.body_since = time.monotonic()
        return self.inner.data_received(chunk)

    def finish(self) -> None:
        self.watch.body_since = None  # the handler's turn: no timeout
        self.inner.finish()

    def on_connection_close(self) -> None:
        self.inner.on_connection_close()


class GuardedHTTPServer(tornado.httpserver.HTTPServer):
    """Tornado's HTTPServer with the caps and timeouts above. The Listener feeds it
    accepted sockets through `accept` (it never listens itself)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.guard = GuardSettings()
        # is this peer address trusted? (set by the server: its access rules)
        self.peer_trusted: Callable[[str], bool] = lambda ip: True
        self._streams: dict[IOStream, _Watch] = {}
        self._watches: dict[object, _Watch] = {}
        self._counts: dict[str, int] = {}
        self._untrusted = 0
        self._refusals: dict[str, float] = {}
        self._sweeper: PeriodicCallback | None = None

    # -- admission ------------------------------------------------------------------

    def accept(self, connection: socket.socket, address: tuple[object, ...]) -> None:
        ip = str(address[0]) if isinstance(address, tuple) and address else ""
        key: str | None = None
        if not self.peer_trusted(ip):
            key = address_key(ip)
            open_here = self._counts.get(key, 0)
            if open_here >= self.guard.per_address or self._untrusted >= self.guard.untrusted_total:
                connection.close()
                self._log_refusal(key, open_here)
                return
            self._counts[key] = open_here + 1
            self._untrusted += 1
        # answers a request whose headers are over the limit (Tornado would just close)
        stream = AnsweringStream(connection, max_buffer_size=self.max_buffer_size,
                                 read_chunk_size=self.read_chunk_size)
        self._streams[stream] = _Watch(key, time.monotonic())
        try:
            self.handle_stream(stream, address)
        except Exception:
            log.exception("error setting up a connection from %s", ip)
            self._forget(self._streams.pop(stream, None))
            stream.close()
        self._start_sweeping()

    def _log_refusal(self, key: str, open_here: int) -> None:
        now = time.monotonic()
        if now - self._refusals.get(key, -REFUSAL_LOG_INTERVAL) < REFUSAL_LOG_INTERVAL:
            return
        if len(self._refusals) > 4096:
            self._refusals.clear()
        self._refusals[key] = now
        log.warning(
            "refusing connections from %s: %d open from that address, %d from untrusted "
            "peers (limits: [server] max_connections_per_address %d, "
            "max_untrusted_connections %d); logged once a minute", key, open_here,
            self._untrusted, self.guard.per_address, self.guard.untrusted_total)

    def _forget(self, watch: _Watch | None) -> None:
        if watch is None or watch.key is None:
            return
        left = self._counts.get(watch.key, 1) - 1
        if left > 0:
            self._counts[watch.key] = left
        else:
            self._counts.pop(watch.key, None)
        self._untrusted -= 1

    # -- Tornado's delegate calls ---------------------------------------------------

    def start_request(self, server_conn: object,
                      request_conn: HTTPConnection) -> HTTPMessageDelegate:
        delegate = super().start_request(server_conn, request_conn)
        watch = self._watches.get(server_conn)
        if watch is None:
            stream = getattr(server_conn, "stream", None)
            watch = self._streams.pop(stream, None) if isinstance(stream, IOStream) else None
            if watch is None:
                return delegate
            self._watches[server_conn] = watch
        else:
            watch.waiting_since = time.monotonic()  # the next request on a kept-alive one
        return _WatchedMessage(delegate, watch)

    def on_close(self, server_conn: object) -> None:
        self._forget(self._watches.pop(server_conn, None))
        super().on_close(server_conn)

    # -- timeouts -------------------------------------------------------------------

    def _start_sweeping(self) -> None:
        if self._sweeper is None:
            self._sweeper = PeriodicCallback(self._sweep, SWEEP_INTERVAL * 1000)
            self._sweeper.start()

    def _sweep(self) -> None:
        now = time.monotonic()
        header, idle = self.guard.header_timeout, self.guard.idle_timeout
        for server_conn, watch in list(self._watches.items()):
            if watch.waiting_since is not None:
                limit = header if watch.first else idle
                late = now - watch.waiting_since > limit
            elif watch.body_since is not None:
                late = now - watch.body_since > idle
            else:
                late = False
            if late:
                stream = getattr(server_conn, "stream", None)
                if isinstance(stream, IOStream):
                    stream.close()
        # streams accepted but not yet serving (never the case for long)
        for stream, watch in list(self._streams.items()):
            if stream.closed():
                self._forget(self._streams.pop(stream))
            elif watch.waiting_since is not None and now - watch.waiting_since > header:
                stream.close()

    def stop_sweeping(self) -> None:
        if self._sweeper is not None:
            self._sweeper.stop()
            self._sweeper = None


class Acceptor:
    """Accepts on listening sockets for a GuardedHTTPServer, pausing (not spinning) when
    the process is out of file descriptors."""

    def __init__(self, sockets: list[socket.socket], server: GuardedHTTPServer) -> None:
        self.sockets = sockets
        self.server = server
        self._loop: IOLoop | None = None
        self._paused: set[socket.socket] = set()
        self._closed = False
        self._pauses = 0
        self._logged_at = -REFUSAL_LOG_INTERVAL

    def start(self) -> None:
        self._loop = IOLoop.current()
        for sock in self.sockets:
            self._watch(sock)

    def _watch(self, sock: socket.socket) -> None:
        assert self._loop is not None
        self._loop.add_handler(sock, lambda _fd, _events: self._accept(sock), IOLoop.READ)

    def _accept(self, sock: socket.socket) -> None:
        for _ in range(ACCEPT_BATCH):
            try:
                connection, address = sock.accept()
            except BlockingIOError:
                return
            except ConnectionAbortedError:
                continue
            except OSError as exc:
                if exc.errno in _OUT_OF_RESOURCES:
                    self._pause(sock, exc)
                    return
                raise
            connection.setblocking(False)
            self.server.accept(connection, address)

    def _pause(self, sock: socket.socket, exc: OSError) -> None:
        assert self._loop is not None
        if sock in self._paused:
            return
        self._paused.add(sock)
        self._loop.remove_handler(sock)
        self._pauses += 1
        now = time.monotonic()
        if now - self._logged_at >= REFUSAL_LOG_INTERVAL:
            self._logged_at = now
            log.warning("cannot accept connections: %s; pausing %.2f s each time (%d times "
                        "since the last such warning; logged once a minute)",
                        exc.strerror, ACCEPT_PAUSE, self._pauses)
            self._pauses = 0
        self._loop.call_later(ACCEPT_PAUSE, self._resume, sock)

    def _resume(self, sock: socket.socket) -> None:
        self._paused.discard(sock)
        if not self._closed:
            self._watch(sock)
            self._accept(sock)

    def close(self) -> None:
        self._closed = True
        if self._loop is not None:
            for sock in self.sockets:
                if sock not in self._paused:
                    self._loop.remove_handler(sock)
        for sock in self.sockets:
            sock.close()
