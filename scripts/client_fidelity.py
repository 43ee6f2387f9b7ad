"""Issue 23 checked the way other Moonraker clients see Skysail: through `moonraker-api`
(the websocket client library Home Assistant's Moonraker integration uses),
`moonraker-client` (an HTTP client generated from Moonraker's documentation) and aiohttp,
against a Skysail started here with the virtual printer.

Run it from a separate environment (the project does not depend on these libraries):

    python3 -m venv /tmp/clients && /tmp/clients/bin/pip install moonraker-api moonraker-client
    /tmp/clients/bin/python scripts/client_fidelity.py --python .venv/bin/python

It prints one line per check (PASS/FAIL with what was seen) and exits 1 if any failed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
from moonraker_api import MoonrakerClient, MoonrakerListener

CONFIG = """
[server]
host: 127.0.0.1
port: 0

[authorization]
trusted_clients:
  127.0.0.0/8
cors_domains:
  *

[serial]
port: virtual
virtual_time_scale: 10
"""

RESULTS: list[tuple[str, bool, str]] = []


def check(name: str, ok: bool, seen: Any = "") -> None:
    RESULTS.append((name, ok, str(seen)[:300]))
    print(f"{'PASS' if ok else 'FAIL'}  {name}" + ("" if ok else f"  -- seen: {seen!s:.300}"),
          flush=True)


class Listener(MoonrakerListener):
    def __init__(self) -> None:
        self.notifications: list[tuple[str, Any]] = []

    async def state_changed(self, state: str) -> None:
        return None

    async def on_notification(self, method: str, data: Any) -> None:
        self.notifications.append((method, data))


class Skysail:
    def __init__(self, python: str, source: Path) -> None:
        self.data = Path(tempfile.mkdtemp(prefix="skysail-fidelity-"))
        (self.data / "config").mkdir(parents=True)
        (self.data / "config" / "moonraker.conf").write_text(CONFIG)
        self.log = self.data / "stderr.log"
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                [python, "-m", "gateway", "-d", str(self.data), "-n"],
                cwd=source, stderr=log, stdout=subprocess.DEVNULL)
        self.port = 0
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            found = re.search(r"listening on [\d.]+:(\d+)", self.log.read_text())
            if found:
                self.port = int(found.group(1))
                return
            time.sleep(0.1)
        raise RuntimeError("Skysail did not start:\n" + self.log.read_text())

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)


async def wait(cond: Callable[[], Awaitable[bool]], timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if await cond():
                return True
        except (aiohttp.ClientError, OSError):
            pass
        await asyncio.sleep(0.1)
    return False


SESSION: list[aiohttp.ClientSession] = []


async def client(port: int, listener: Listener | None = None) -> MoonrakerClient:
    c = MoonrakerClient(listener or Listener(), "127.0.0.1", port, session=SESSION[0])
    await c.connect()
    return c


async def run(sky: Skysail) -> None:
    base = f"http://127.0.0.1:{sky.port}"
    http = aiohttp.ClientSession()
    SESSION.append(http)
    try:
        await check_namespaces(sky.port, http, base)
        await check_agents(sky.port, http, base)
        await check_maintenance(sky, http, base)
        await check_login_and_cors(http, base)
        await asyncio.to_thread(check_http_library, base)
        await check_printer_items(sky.port, http, base)
    finally:
        await http.close()


async def check_namespaces(port: int, http: aiohttp.ClientSession, base: str) -> None:
    mr = await client(port)
    reply = await mr.call_method("server.database.post_item", namespace="moonraker",
                                 key="x", value=1)
    check("ws post_item moonraker -> 403",
          reply == {"error": {"code": 403,
                              "message": "Write access to namespace 'moonraker' is forbidden"}},
          reply)
    reply = await mr.call_method("server.database.get_item", namespace="database")
    check("ws get_item database -> 403 read/write forbidden",
          reply.get("error", {}).get("code") == 403
          and "Read/Write access" in reply["error"]["message"], reply)
    async with http.delete(f"{base}/server/database/item?namespace=moonraker&key=x") as resp:
        body = await resp.json()
        check("http DELETE item moonraker -> 403", resp.status == 403
              and body["error"]["code"] == 403, (resp.status, body))
    reply = await mr.call_method("server.database.post_item", namespace="mainsail",
                                 key="general.printername", value="fidelity")
    check("ws post_item mainsail allowed", reply.get("value") == "fidelity", reply)
    await mr.disconnect()


async def check_agents(port: int, http: aiohttp.ClientSession, base: str) -> None:
    listener = Listener()
    web = await client(port, listener)
    await web.call_method("server.connection.identify", client_name="ha", version="1",
                          type="web", url="x")
    # the agent: answers server requests itself (moonraker-api is no agent library)
    async with http.ws_connect(f"ws://127.0.0.1:{port}/websocket") as agent:
        await agent.send_json({"jsonrpc": "2.0", "method": "server.connection.identify",
                               "params": {"client_name": "bridge", "version": "0.1",
                                          "type": "agent", "url": "u"}, "id": 1})
        ident = await agent.receive_json()
        check("agent identify", "connection_id" in ident.get("result", {}), ident)
        listed = await web.call_method("server.extensions.list")
        check("ws server.extensions.list", listed == {"agents": [
            {"name": "bridge", "version": "0.1", "type": "agent", "url": "u"}]}, listed)
        async with http.get(f"{base}/server/extensions/list") as resp:
            body = await resp.json()
            check("http GET /server/extensions/list", resp.status == 200
                  and body["result"]["agents"][0]["name"] == "bridge", body)
        await agent.send_json({"jsonrpc": "2.0", "method": "connection.send_event",
                               "params": {"event": "hello", "data": [1]}, "id": 2})
        await agent.receive_json()
        got = await wait(lambda: _has_event(listener, "hello"), 10)
        check("notify_agent_event reaches other clients", got, listener.notifications[-3:])

        async def answer() -> None:
            request = await agent.receive_json()
            await agent.send_json({"jsonrpc": "2.0", "id": request["id"],
                                   "result": {"echo": request.get("params")}})

        task = asyncio.ensure_future(answer())
        # moonraker-api cannot send a parameter named `method` (its own argument), so
        # this call goes over a plain websocket
        async with http.ws_connect(f"ws://127.0.0.1:{port}/websocket") as caller:
            await caller.send_json({"jsonrpc": "2.0", "method": "server.extensions.request",
                                    "params": {"agent": "bridge", "method": "echo",
                                               "arguments": {"a": 1}}, "id": 9})
            reply = await caller.receive_json()
        await task
        check("ws server.extensions.request relayed",
              reply.get("result") == {"echo": {"a": 1}}, reply)
        task = asyncio.ensure_future(answer())
        async with http.post(f"{base}/server/extensions/request",
                             json={"agent": "bridge", "method": "echo",
                                   "arguments": [2]}) as resp:
            body = await resp.json()
        await task
        check("http POST /server/extensions/request relayed",
              body == {"result": {"echo": [2]}}, body)
    await web.disconnect()


async def _has_event(listener: Listener, event: str) -> bool:
    return any(m == "notify_agent_event" and d and d[0].get("event") == event
               for m, d in listener.notifications)


async def check_maintenance(sky: Skysail, http: aiohttp.ClientSession, base: str) -> None:
    mr = await client(sky.port)
    reply = await mr.call_method("server.database.compact")
    check("ws compact -> previous_size/new_size",
          set(reply) == {"previous_size", "new_size"}, reply)
    reply = await mr.call_method("server.database.post_backup", filename="fid.db")
    check("ws post_backup -> backup_path", str(reply.get("backup_path", "")).endswith(
        "backup/database/fid.db"), reply)
    listed = await mr.call_method("server.database.list")
    check("list shows the backup", "fid.db" in listed.get("backups", []), listed)
    await mr.call_method("server.database.post_item", namespace="mainsail",
                         key="general.printername", value="changed")
    reply = await mr.call_method("server.database.restore", filename="fid.db")
    check("ws restore -> restored_tables/namespaces",
          "namespace_items" in reply.get("restored_tables", [])
          and "mainsail" in reply.get("restored_namespaces", []), reply)
    await mr.disconnect()

    async def restored() -> bool:
        async with http.get(f"{base}/server/database/item?namespace=mainsail"
                            "&key=general.printername") as resp:
            return resp.status == 200 and (await resp.json())["result"]["value"] == "fidelity"

    check("restore brought the value back after the restart", await wait(restored, 60))
    async with http.post(f"{base}/server/database/compact") as resp:
        check("http POST /server/database/compact", resp.status == 200, await resp.text())
    async with http.delete(f"{base}/server/database/backup?filename=fid.db") as resp:
        body = await resp.json()
        check("http DELETE backup -> backup_path", resp.status == 200
              and body["result"]["backup_path"].endswith("fid.db"), body)


async def check_login_and_cors(http: aiohttp.ClientSession, base: str) -> None:
    async with http.post(f"{base}/api/login", skip_auto_headers=["Content-Type"]) as resp:
        body = await resp.text()
        check("OctoPrint /api/login without a body -> 200 user", resp.status == 200
              and "name" in json.loads(body), (resp.status, body))
    origin = "https://anything.example.org"
    async with http.options(f"{base}/server/info", headers={
            "Origin": origin, "Access-Control-Request-Method": "GET"}) as resp:
        check("cors_domains: * preflight allows any origin",
              resp.headers.get("Access-Control-Allow-Origin") == origin, dict(resp.headers))


def check_http_library(base: str) -> None:
    """moonraker-client's HTTP methods for the database and extensions."""
    try:
        from moonraker_client import MoonrakerClient as HttpClient
        from moonraker_client.api.extensions import ExtensionsMixin
        from moonraker_client.exceptions import MoonrakerAPIError
    except ImportError:
        check("moonraker-client installed", False, "pip install moonraker-client")
        return
    with HttpClient(base) as mc:
        listed = mc.server_database_list()
        check("moonraker-client server_database_list", "namespaces" in listed
              and "backups" in listed, listed)
        sizes = mc.server_database_compact()
        check("moonraker-client server_database_compact", set(sizes) == {
            "previous_size", "new_size"}, sizes)
        made = mc.server_database_backup(filename="mc.db")
        check("moonraker-client server_database_backup", made["backup_path"].endswith(
            "/mc.db"), made)
        # its client class leaves the extensions methods out; they only need _request
        agents = ExtensionsMixin.server_extensions_list(mc)
        check("moonraker-client server_extensions_list", agents == {"agents": []}, agents)
        try:
            ExtensionsMixin.server_extensions_request(mc, agent="nobody", method="x")
            refused: Any = "accepted"
        except MoonrakerAPIError as exc:
            refused = exc
        check("moonraker-client server_extensions_request to a missing agent -> 400",
              "Agent nobody not connected" in str(refused), refused)
        restored = mc.server_database_restore(filename="mc.db")
        check("moonraker-client server_database_restore", "restored_namespaces" in restored,
              restored)


async def check_printer_items(port: int, http: aiohttp.ClientSession, base: str) -> None:
    """The klipper helper's items of issue 23, as a client sees them."""

    async def back() -> bool:  # after the restore's restart
        async with http.get(f"{base}/server/info") as resp:
            return resp.status == 200

    await asyncio.sleep(1)
    await wait(back, 60)
    listener = Listener()
    mr = await client(port, listener)
    ok = await wait(lambda: _ready(mr), 60)
    check("printer ready", ok)
    reply = await mr.call_method("printer.gcode.script", script="G1 X1000000")
    check("G1 X1000000 refused with 'Move out of range'",
          "error" in reply and "Move out of range" in reply["error"]["message"], reply)
    # a reconnect makes the host handshake again (M115 answers with Cap: lines)
    await mr.call_method("printer.firmware_restart")
    await asyncio.sleep(0.5)
    check("printer ready again after FIRMWARE_RESTART", await wait(lambda: _ready(mr), 60))
    # and a disconnect/connect of the serial link (OctoPrint's connection API)
    statuses = []
    for command in ("disconnect", "connect"):
        async with http.post(f"{base}/api/connection", json={"command": command}) as resp:
            statuses.append(resp.status)
        if command == "disconnect":
            gone = await wait(lambda: _state_is(mr, "disconnected"), 30)
    check("printer ready again after a serial reconnect",
          statuses == [204, 204] and gone and await wait(lambda: _ready(mr), 60), statuses)
    store = await mr.call_method("server.gcode_store", count=1000)
    lines = [e["message"] for e in store.get("gcode_store", [])]
    check("console shows no handshake traffic (Cap:, M115, FIRMWARE_NAME) after reconnects",
          not any(("Cap:" in line or "FIRMWARE_NAME" in line or line.strip() == "M115")
                  for line in lines),
          [line for line in lines if "Cap:" in line or "FIRMWARE_NAME" in line][:5])
    pushed = [str(d[0]) for m, d in listener.notifications
              if m == "notify_gcode_response" and d]
    check("notify_gcode_response carries no handshake traffic after reconnects",
          not any("Cap:" in line or "FIRMWARE_NAME" in line for line in pushed),
          [line for line in pushed if "Cap:" in line or "FIRMWARE_NAME" in line][:5])
    src = "G28\nG4 P60000\nG1 X10 Y10\n" + "G1 X20 Y20\n" * 50
    data = aiohttp.FormData()
    data.add_field("file", src.encode(), filename="dwell.gcode")
    async with http.post(f"{base}/server/files/upload", data=data) as resp:
        await resp.read()
    await mr.call_method("printer.print.start", filename="dwell.gcode")

    async def printing() -> bool:
        status = await mr.call_method("printer.objects.query",
                                      objects={"print_stats": ["state"]})
        return bool(status["status"]["print_stats"]["state"] == "printing")

    await wait(printing, 30)
    await asyncio.sleep(1.0)  # inside the dwell
    start = time.monotonic()
    try:
        reply = await mr.call_method("printer.print.cancel")
    except TimeoutError:
        reply = "no answer before moonraker-api's request timeout"
    took = time.monotonic() - start
    check(f"cancel during G4 P60000 answers within ~1 s (took {took:.2f} s)",
          took < 1.5 and reply == "ok", reply)

    async def state() -> str:
        status = await mr.call_method("printer.objects.query",
                                      objects={"print_stats": ["state"]})
        return str(status["status"]["print_stats"]["state"])

    seen = await state()
    check("the print shows cancelling/cancelled at once", seen in ("cancelling", "cancelled"),
          seen)

    async def cancelled() -> bool:
        return await state() == "cancelled"

    check("the print ends cancelled once the dwell is over", await wait(cancelled, 60),
          await state())
    await mr.disconnect()


async def _ready(mr: MoonrakerClient) -> bool:
    return await _state_is(mr, "ready")


async def _state_is(mr: MoonrakerClient, state: str) -> bool:
    info = await mr.call_method("server.info")
    return bool(info.get("klippy_state") == state)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--python", required=True, help="the Python of Skysail's venv")
    parser.add_argument("--source", default=str(Path(__file__).resolve().parent.parent),
                        help="the Skysail checkout to run (default: this one)")
    args = parser.parse_args()
    sky = Skysail(args.python, Path(args.source))
    try:
        asyncio.run(run(sky))
    finally:
        sky.stop()
    failed = [name for name, ok, _ in RESULTS if not ok]
    print(f"{len(RESULTS) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
