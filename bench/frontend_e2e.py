"""Run a real, built Mainsail or Fluidd against Skysail + the virtual printer in headless
Chromium and record every call the frontend makes (by hand, not part of the pytest suite).

    .venv/bin/python -m bench.frontend_e2e --dist /tmp/mainsail-src/dist --name mainsail \
        --out docs/images
    .venv/bin/python -m bench.frontend_e2e --dist /tmp/fluidd-src/dist --name fluidd \
        --out docs/images

What it does:
* starts Skysail as its own process (`python -m gateway -d <tmp> -n`) with `[web] path: <dist>`,
  `[serial] port: virtual`, `virtual_time_scale` (default 10) on a free loopback port;
* uploads a PrusaSlicer-looking G-code file (header and thumbnails copied at run time from
  tests/files_metadata/samples/prusaslicer.gcode, a longer body generated here);
* opens the frontend in headless Chromium (Debian's /usr/bin/chromium) over the DevTools
  protocol with the `Network` domain on: every websocket frame is decoded, each JSON-RPC request
  is paired with its answer (ok / error code + message / unanswered), every HTTP request is
  logged with its status, and the page's console errors and exceptions are kept;
* waits for the UI to initialise, takes screenshots of the dashboard, files, console, history and
  machine pages, starts the print by clicking through the UI, screenshots the dashboard while it
  prints, types M114 into the console input, uploads a second file through the UI's file input,
  waits for the print to end (or cancels it), and screenshots history and the machine page;
* writes `<out>/<name>-*.png`, a JSON log (`--log`, default /tmp/frontend_e2e-<name>.json) and a
  Markdown summary of the calls (`--summary`, default /tmp/frontend_e2e-<name>.md).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import collections
import contextlib
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import tornado.httpclient
import tornado.websocket

from bench.common import SkysailProcess

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "tests" / "files_metadata" / "samples" / "prusaslicer.gcode"
MAX_PNG = 295 * 1024
# answers kept whole in the JSON log (the others are abridged)
FULL_RESULTS = {"server.info", "printer.info", "printer.objects.list", "printer.objects.subscribe",
                "server.config", "machine.system_info", "printer.objects.query"}

# ------------------------------------------------------------------------------------------
# the G-code file


def make_gcode(layers: int, moves: int) -> bytes:
    """PrusaSlicer header + thumbnails + footer from the sample, a longer body of our own."""
    lines = SAMPLE.read_text().splitlines()
    first_cmd = next(i for i, ln in enumerate(lines) if ln.startswith("M73"))
    footer = next(i for i, ln in enumerate(lines) if ln.startswith("M104 S0"))
    head, tail = lines[:first_cmd], lines[footer:]
    body = [
        "M73 P0 R12",
        "M201 X1000 Y1000 Z200 E5000 ; sets maximum accelerations, mm/sec^2",
        "M140 S60 ; set bed temp",
        "M104 S215 ; set extruder temp",
        "M190 S60 ; wait for bed temp",
        "M109 S215 ; wait for extruder temp",
        "G28 ; home all",
        "G92 E0.0",
    ]
    e = 0.0
    for layer in range(1, layers + 1):
        z = round(layer * 0.2, 2)
        body += [";LAYER_CHANGE", f";Z:{z:g}", ";HEIGHT:0.2", ";BEFORE_LAYER_CHANGE",
                 "G92 E0.0", f";{z:g}", "", f"G1 Z{z:g} F720"]
        e = 0.0
        for m in range(moves):
            x = 50 + (m % 2) * 30
            y = 50 + m * 0.5
            e += 1.2
            body.append(f"G1 X{x:.3f} Y{y:.3f} E{e:.5f} F3000")
        body.append(f"M73 P{int(layer * 100 / layers)} R{max(0, layers - layer)}")
    text = "\n".join(head + body + tail) + "\n"
    text = text.replace("; total layers count = 30", f"; total layers count = {layers}")
    return text.encode()


def upload(base: str, name: str, data: bytes) -> dict[str, Any]:
    boundary = uuid.uuid4().hex
    parts = [
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"root\"\r\n\r\ngcodes\r\n".encode(),
        (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
         "Content-Type: application/octet-stream\r\n\r\n").encode() + data + b"\r\n",
        f"--{boundary}--\r\n".encode(),
    ]
    req = urllib.request.Request(
        base + "/server/files/upload", data=b"".join(parts), method="POST",
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())  # type: ignore[no-any-return]


def http_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return json.loads(resp.read())


# ------------------------------------------------------------------------------------------
# DevTools protocol client with events


class Cdp:
    def __init__(self, ws: tornado.websocket.WebSocketClientConnection) -> None:
        self.ws = ws
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._handlers: dict[str, list[Callable[[dict[str, Any]], Awaitable[None] | None]]] = (
            collections.defaultdict(list))
        self._reader = asyncio.ensure_future(self._read())
        self._tasks: set[asyncio.Future[Any]] = set()

    def on(self, event: str, fn: Callable[[dict[str, Any]], Awaitable[None] | None]) -> None:
        self._handlers[event].append(fn)

    async def _read(self) -> None:
        while True:
            raw = await self.ws.read_message()
            if raw is None:
                for waiter in self._pending.values():
                    if not waiter.done():
                        waiter.set_exception(ConnectionError("DevTools connection closed"))
                return
            msg = json.loads(raw)
            if "id" in msg:
                fut: asyncio.Future[Any] | None = self._pending.pop(msg["id"], None)
                if fut and not fut.done():
                    if "error" in msg:
                        fut.set_exception(RuntimeError(msg["error"]))
                    else:
                        fut.set_result(msg.get("result"))
                continue
            for fn in self._handlers.get(msg.get("method", ""), []):
                try:
                    res = fn(msg.get("params", {}))
                    if asyncio.iscoroutine(res):
                        task = asyncio.ensure_future(res)
                        self._tasks.add(task)
                        task.add_done_callback(self._tasks.discard)
                except Exception as exc:  # a recorder bug must not stop the run
                    print("handler error", msg.get("method"), exc, file=sys.stderr)

    async def send(self, method: str, params: dict[str, Any] | None = None,
                   timeout: float = 60) -> Any:
        msg_id = next(self._ids)
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[msg_id] = fut
        await self.ws.write_message(json.dumps({"id": msg_id, "method": method,
                                                "params": params or {}}))
        return await asyncio.wait_for(fut, timeout)

    async def evaluate(self, expression: str) -> Any:
        res = await self.send("Runtime.evaluate", {"expression": expression,
                                                   "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in res:
            raise RuntimeError(res["exceptionDetails"].get("exception", {}).get("description")
                               or res["exceptionDetails"])
        return res["result"].get("value")

    async def wait_for(self, expression: str, timeout: float = 30) -> Any:
        deadline = time.monotonic() + timeout
        last_exc: Exception | None = None
        while True:
            try:
                value = await self.evaluate(expression)
            except RuntimeError as exc:
                value, last_exc = None, exc
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"page never satisfied: {expression[:120]} ({last_exc})")
            await asyncio.sleep(0.2)

    def close(self) -> None:
        self._reader.cancel()
        self.ws.close()


# ------------------------------------------------------------------------------------------
# what the frontend sends and receives


def _short(value: Any, limit: int = 300) -> str:
    text = json.dumps(value, separators=(",", ":"), default=str)
    return text if len(text) <= limit else text[:limit] + "…"


class Recorder:
    def __init__(self, base: str) -> None:
        self.base = base
        self.t0 = time.monotonic()
        self.sockets: dict[str, dict[str, Any]] = {}
        self.pending: dict[tuple[str, Any], dict[str, Any]] = {}
        self.calls: list[dict[str, Any]] = []
        self.notifications: collections.Counter[str] = collections.Counter()
        self.notification_samples: dict[str, str] = {}
        self.http: dict[str, dict[str, Any]] = {}
        self.console: list[dict[str, Any]] = []
        self.steps: list[dict[str, Any]] = []

    def now(self) -> float:
        return round(time.monotonic() - self.t0, 3)

    def step(self, text: str, **extra: Any) -> None:
        print(f"[{self.now():7.2f}] {text}", *(f"{k}={v}" for k, v in extra.items()), flush=True)
        self.steps.append({"t": self.now(), "step": text, **extra})

    # websocket --------------------------------------------------------------------------
    def ws_created(self, p: dict[str, Any]) -> None:
        self.sockets[p["requestId"]] = {"url": p["url"], "opened": self.now(), "closed": None}

    def ws_closed(self, p: dict[str, Any]) -> None:
        if p["requestId"] in self.sockets:
            self.sockets[p["requestId"]]["closed"] = self.now()

    def ws_sent(self, p: dict[str, Any]) -> None:
        try:
            data = json.loads(p["response"]["payloadData"])
        except (ValueError, KeyError):
            return
        for req in data if isinstance(data, list) else [data]:
            if not isinstance(req, dict) or "method" not in req:
                continue
            rec = {"t": self.now(), "socket": p["requestId"], "method": req["method"],
                   "params": req.get("params"), "id": req.get("id"),
                   "batch": isinstance(data, list),
                   "status": "pending"}
            self.calls.append(rec)
            if "id" in req:
                self.pending[(p["requestId"], req["id"])] = rec
            else:
                rec["status"] = "notification-sent"

    def ws_received(self, p: dict[str, Any]) -> None:
        try:
            data = json.loads(p["response"]["payloadData"])
        except (ValueError, KeyError):
            return
        for msg in data if isinstance(data, list) else [data]:
            if not isinstance(msg, dict):
                continue
            if "id" in msg and ("result" in msg or "error" in msg):
                rec = self.pending.pop((p["requestId"], msg["id"]), None)
                if rec is None:
                    self.calls.append({"t": self.now(), "socket": p["requestId"], "method": "?",
                                       "id": msg["id"], "status": "unmatched-answer",
                                       "answer": _short(msg)})
                    continue
                rec["dt_ms"] = round((self.now() - rec["t"]) * 1000, 1)
                if "error" in msg:
                    err = msg["error"] or {}
                    rec["status"] = "error"
                    rec["code"] = err.get("code")
                    rec["message"] = err.get("message")
                else:
                    rec["status"] = "ok"
                    rec["result"] = _short(msg["result"], 600)
                    if rec["method"] in FULL_RESULTS:
                        rec["full_result"] = msg["result"]
            elif "method" in msg:
                self.notifications[msg["method"]] += 1
                self.notification_samples.setdefault(msg["method"], _short(msg.get("params"), 400))

    # http -------------------------------------------------------------------------------
    def http_sent(self, p: dict[str, Any]) -> None:
        req = p["request"]
        if not req["url"].startswith(("http://", "https://")):
            return
        self.http[p["requestId"]] = {"t": self.now(), "method": req["method"], "url": req["url"],
                                     "type": p.get("type"), "status": None}

    def http_response(self, p: dict[str, Any]) -> None:
        rec = self.http.get(p["requestId"])
        if rec is not None:
            rec["status"] = p["response"]["status"]
            rec["mime"] = p["response"].get("mimeType")

    def http_failed(self, p: dict[str, Any]) -> None:
        rec = self.http.get(p["requestId"])
        if rec is not None and rec["status"] is None:
            rec["status"] = "failed"
            rec["error"] = p.get("errorText")

    # page console -----------------------------------------------------------------------
    def console_api(self, p: dict[str, Any]) -> None:
        if p.get("type") not in ("error", "warning", "assert"):
            return
        text = " ".join(str(a.get("value", a.get("description", a.get("type"))))
                        for a in p.get("args", []))
        self.console.append({"t": self.now(), "level": p["type"], "text": text[:800]})

    def exception(self, p: dict[str, Any]) -> None:
        d = p.get("exceptionDetails", {})
        text = d.get("exception", {}).get("description") or d.get("text")
        self.console.append({"t": self.now(), "level": "exception", "text": str(text)[:800]})

    def log_entry(self, p: dict[str, Any]) -> None:
        e = p.get("entry", {})
        if e.get("level") in ("error", "warning"):
            self.console.append({"t": self.now(), "level": "log-" + e["level"],
                                 "text": f"{e.get('text', '')} {e.get('url', '')}"[:800]})

    # reports ----------------------------------------------------------------------------
    def api_http(self) -> list[dict[str, Any]]:
        out = []
        for rec in self.http.values():
            path = rec["url"].split("://", 1)[-1].split("/", 1)[-1]
            if re.match(r"(server|printer|machine|access|api)/", path):
                out.append(rec)
        return out

    def summary_rows(self) -> list[dict[str, Any]]:
        rows: dict[str, dict[str, Any]] = {}
        for c in self.calls:
            row = rows.setdefault(c["method"], {"method": c["method"], "n": 0, "ok": 0,
                                                "errors": collections.Counter(), "pending": 0,
                                                "first_t": c["t"], "params": set()})
            row["n"] += 1
            if c["status"] == "ok":
                row["ok"] += 1
            elif c["status"] == "error":
                row["errors"][f"{c.get('code')} {c.get('message')}"] += 1
            elif c["status"] == "pending":
                row["pending"] += 1
            if len(row["params"]) < 4:
                row["params"].add(_short(c.get("params"), 120))
        return sorted(rows.values(), key=lambda r: r["first_t"])

    def markdown(self) -> str:
        lines = ["| # | JSON-RPC method | calls | ok | errors (code message x n) | unanswered"
                 " | params (examples) |",
                 "|---|---|---|---|---|---|---|"]
        for i, r in enumerate(self.summary_rows(), 1):
            errs = "<br>".join(f"`{k}` x {v}" for k, v in r["errors"].items()) or "—"
            params = "<br>".join(f"`{p}`" for p in sorted(r["params"])).replace("|", "\\|")
            lines.append(f"| {i} | `{r['method']}` | {r['n']} | {r['ok']} | {errs} | "
                         f"{r['pending'] or '—'} | {params} |")
        lines += ["", "| HTTP request | calls | status |", "|---|---|---|"]
        agg: dict[tuple[str, str], collections.Counter[str]] = collections.defaultdict(
            collections.Counter)
        for rec in self.api_http():
            path = "/" + rec["url"].split("://", 1)[-1].split("/", 1)[-1]
            path = re.sub(r"\.thumbs/[^?]*", ".thumbs/…", path)
            agg[(rec["method"], path)][str(rec["status"])] += 1
        for (method, path), st in agg.items():
            lines.append(f"| `{method} {path}` | {sum(st.values())} | "
                         + ", ".join(f"{k} x {v}" for k, v in st.items()) + " |")
        static = collections.Counter(str(r["status"]) for r in self.http.values()
                                     if r not in self.api_http())
        lines += ["", f"Static assets / other HTTP: {dict(static)}", "",
                  "| notification received | count | first params (abridged) |", "|---|---|---|"]
        for name, n in self.notifications.most_common():
            sample = self.notification_samples.get(name, "").replace("|", "\\|")
            lines.append(f"| `{name}` | {n} | `{sample[:160]}` |")
        return "\n".join(lines) + "\n"

    def dump(self) -> dict[str, Any]:
        return {"calls": self.calls, "http": list(self.http.values()), "sockets": self.sockets,
                "notifications": dict(self.notifications),
                "notification_samples": self.notification_samples,
                "console": self.console, "steps": self.steps}


# ------------------------------------------------------------------------------------------
# per-frontend knowledge (routes and how to read the app's state)

ROOT_JS = """(() => { for (const el of document.querySelectorAll('body, body *')) {
    if (el.__vue__) return el.__vue__.$root; } return null; })()"""


def js(body: str) -> str:
    """Evaluate `body` with `root` (the Vue root), `store` and `st` (= store.state)."""
    return (f"(async () => {{ const root = {ROOT_JS}; const store = root && root.$store;"
            f" const st = store && store.state; {body} }})()")


FRONTENDS: dict[str, dict[str, Any]] = {
    "mainsail": {
        "ready": "return !!(st && st.socket.isConnected"
                 " && st.socket.initializationList.length === 0"
                 " && st.printer && st.printer.print_stats)",
        "init_left": "return st ? JSON.stringify({connected: st.socket.isConnected,"
                     " left: st.socket.initializationList}) : 'no store'",
        "temps": "return !!(st.printer.extruder && typeof st.printer.extruder.temperature"
                 " === 'number' && st.printer.heater_bed)",
        "print_state": "return st.printer.print_stats && st.printer.print_stats.state",
        "progress": "return st.printer.virtual_sdcard && st.printer.virtual_sdcard.progress",
        "routes": {"dashboard": "/", "files": "/files", "console": "/console",
                   "history": "/history", "machine": "/config"},
        "start_click": ("Print", "button, .v-btn, [role=button]", ".v-dialog--active"),
        "console_input": "#page-container textarea",
        "emit": "root.$socket.emit(%s, %s)",
        "upload_input": "#page-container input[type=file]",
        "upload_print_input": "header input[type=file]",
        "estop": "Emergency Stop",
        "firmware_restart": "Firmware Restart",
        "shutdown_state": "return st.server.klippy_state",
    },
    "fluidd": {
        "ready": "return !!(st && st.socket.status === 'ready' && st.printer.printer"
                 " && st.printer.printer.print_stats && store.getters['printer/getKlippyReady'])",
        "init_left": "return st ? JSON.stringify({status: st.socket.status,"
                     " klippy: st.server && st.server.info && st.server.info.klippy_state})"
                     " : 'no store'",
        "temps": "return !!(st.printer.printer.extruder && typeof"
                 " st.printer.printer.extruder.temperature === 'number')",
        "print_state": "return st.printer.printer.print_stats"
                       " && st.printer.printer.print_stats.state",
        "progress": "return st.printer.printer.virtual_sdcard"
                    " && st.printer.printer.virtual_sdcard.progress",
        "routes": {"dashboard": "/", "files": "/jobs", "console": "/console",
                   "history": "/history", "machine": "/system"},
        "start_click": ("Print", ".v-list-item, .v-list-item__title",
                        ".menuable__content__active"),
        "console_input": "textarea",
        "upload_input": "input[type=file]",
        "upload_print_input": "",
        "estop": "",
        "firmware_restart": "Firmware Restart",
        "shutdown_state": "return st.server.info && st.server.info.klippy_state",
        "emit": "root.$socket.emit(%s, {params: %s})",
    },
}


def emit(fe: dict[str, Any], method: str, params: dict[str, Any]) -> str:
    """JS that sends `method` through the frontend's own websocket client."""
    template: str = fe["emit"]
    return (template % (json.dumps(method), json.dumps(params))) + "; return true"


# click the first visible element whose own text is exactly `text` (inside `scope`)
CLICK_TEXT_JS = """
const scope = document.querySelector(%(scope)s);
if (!scope) return false;
const want = %(text)s.toLowerCase();
const visible = (el) => {
    const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
const cands = [...scope.querySelectorAll(%(sel)s)].filter(el => visible(el) &&
    el.textContent.trim().toLowerCase() === want);
if (!cands.length) return false;
const el = cands[cands.length - 1];
el.scrollIntoView({block: 'center'});
el.click();
return true;
"""


def click_text_js(text: str, sel: str = "button, .v-btn, [role=button]",
                  scope: str = "body") -> str:
    return js(CLICK_TEXT_JS % {"text": json.dumps(text), "sel": json.dumps(sel),
                               "scope": json.dumps(scope)})


# ------------------------------------------------------------------------------------------
# the run


async def screenshot(cdp: Cdp, rec: Recorder, path: Path) -> None:
    await asyncio.sleep(0.3)
    scale = 1.0
    while True:
        params: dict[str, Any] = {"format": "png"}
        if scale < 1.0:
            params["clip"] = {"x": 0, "y": 0, "width": 1400, "height": 900, "scale": scale}
        data = base64.b64decode((await cdp.send("Page.captureScreenshot", params))["data"])
        if len(data) <= MAX_PNG or scale < 0.55:
            break
        scale -= 0.1
    path.write_bytes(data)  # noqa: ASYNC240 - a small file, once per screenshot
    rec.step("screenshot", file=str(path), kb=len(data) // 1024, scale=round(scale, 1))


async def launch_chromium(profile: str) -> tuple[subprocess.Popen[bytes], str]:
    from tests.chromium import CHROMIUM_FLAGS, find_chromium

    binary = find_chromium()
    if binary is None:
        raise SystemExit("chromium is not installed (apt-get install chromium)")
    proc = subprocess.Popen(  # noqa: ASYNC220 - started once, never waited on here
        [binary, *CHROMIUM_FLAGS, "--window-size=1400,900", "--hide-scrollbars",
         f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None

    def port() -> int:
        assert proc.stderr is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stderr.readline().decode(errors="replace")
            if not line and proc.poll() is not None:
                break
            m = re.search(r"DevTools listening on ws://[^:]+:(\d+)/", line)
            if m:
                return int(m.group(1))
        raise RuntimeError("chromium did not start its DevTools endpoint")

    devtools = await asyncio.get_running_loop().run_in_executor(None, port)
    # keep draining stderr so chromium never blocks on a full pipe
    asyncio.get_running_loop().run_in_executor(None, lambda: proc.stderr and proc.stderr.read())
    client = tornado.httpclient.AsyncHTTPClient(force_instance=True)
    try:
        resp = await client.fetch(f"http://127.0.0.1:{devtools}/json/list")
    finally:
        client.close()
    target = next(t for t in json.loads(resp.body) if t.get("type") == "page")
    return proc, target["webSocketDebuggerUrl"]


async def run(args: argparse.Namespace) -> int:
    fe = FRONTENDS[args.name]
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240
    data_dir = Path(tempfile.mkdtemp(prefix=f"skysail-e2e-{args.name}-"))
    config = (f"[web]\npath: {args.dist}\n\n[serial]\nport: virtual\n"
              f"virtual_time_scale: {args.time_scale}\n")
    gcode_name = "e2e_benchy_PLA_12m.gcode"
    # the frontend lives outside the data directory: the host policy (outside it too)
    # allows [web] path there, as scripts/install.sh's would
    policy = Path(tempfile.mkdtemp(prefix="skysail-e2e-policy-")) / "host-policy.conf"
    policy.write_text(f"[web]\npath: {args.dist}\n")
    with SkysailProcess(config=config, data_dir=data_dir,
                        extra_args=["--host-policy", str(policy)]) as sky:
        base = f"http://127.0.0.1:{sky.port}"
        rec = Recorder(base)
        rev = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=REPO,  # noqa: ASYNC221
                             capture_output=True, text=True, check=False).stdout.strip()
        rec.step("skysail started", pid=sky.pid, port=sky.port, data_dir=str(data_dir),
                 skysail=rev or "?")
        deadline = time.monotonic() + 30
        while http_json(base + "/server/info")["result"]["klippy_state"] != "ready":
            if time.monotonic() > deadline:
                raise SystemExit("virtual printer never became ready")
            await asyncio.sleep(0.2)
        up = upload(base, gcode_name, make_gcode(args.layers, args.moves))
        rec.step("uploaded via HTTP", answer=_short(up, 200))
        second = data_dir / "ui_upload_cube.gcode"
        second.write_bytes(make_gcode(3, 5))

        profile = tempfile.mkdtemp(prefix="skysail-e2e-chromium-")
        proc, ws_url = await launch_chromium(profile)
        ws = await tornado.websocket.websocket_connect(ws_url, max_message_size=256 * 1024 * 1024)
        cdp = Cdp(ws)
        cdp.on("Network.webSocketCreated", rec.ws_created)
        cdp.on("Network.webSocketClosed", rec.ws_closed)
        cdp.on("Network.webSocketFrameSent", rec.ws_sent)
        cdp.on("Network.webSocketFrameReceived", rec.ws_received)
        cdp.on("Network.requestWillBeSent", rec.http_sent)
        cdp.on("Network.responseReceived", rec.http_response)
        cdp.on("Network.loadingFailed", rec.http_failed)
        cdp.on("Runtime.consoleAPICalled", rec.console_api)
        cdp.on("Runtime.exceptionThrown", rec.exception)
        cdp.on("Log.entryAdded", rec.log_entry)
        result = 0
        try:
            for domain in ("Page", "Network", "Runtime", "Log"):
                await cdp.send(f"{domain}.enable")
            await cdp.send("Network.setBypassServiceWorker", {"bypass": True})
            await cdp.send("Emulation.setDeviceMetricsOverride",
                           {"width": 1400, "height": 900, "deviceScaleFactor": 1, "mobile": False})
            await cdp.send("Page.navigate", {"url": base + "/"})
            rec.step("navigated", url=base + "/")
            result = await drive(cdp, rec, fe, args, out, base, gcode_name, second)
        finally:
            await asyncio.sleep(1)
            with contextlib.suppress(Exception):
                rec.step("server log errors", lines=[ln for ln in sky.log.read_text().splitlines()
                                                     if "[ERROR]" in ln or "Traceback" in ln][:20])
            cdp.close()
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
            shutil.rmtree(profile, ignore_errors=True)
            args.log.write_text(json.dumps(rec.dump(), indent=1, default=str))
            args.summary.write_text(rec.markdown())
            unanswered = [c for c in rec.calls if c["status"] == "pending"]
            errors = [c for c in rec.calls if c["status"] == "error"]
            print(rec.markdown())
            print(f"{len(rec.calls)} calls, {len(errors)} errors, {len(unanswered)} unanswered;"
                  f" log {args.log}, summary {args.summary}")
            for c in unanswered:
                print("UNANSWERED", c["method"], _short(c.get("params"), 200))
            for c in rec.console:
                print("PAGE", c["level"], c["text"][:300])
            if args.keep:
                kept = Path(tempfile.gettempdir()) / f"frontend_e2e-{args.name}-data"
                shutil.copytree(data_dir, kept, dirs_exist_ok=True)
                print("data dir kept:", kept)
    shutil.rmtree(data_dir, ignore_errors=True)
    return result


async def goto(cdp: Cdp, rec: Recorder, path: str) -> None:
    await cdp.evaluate(js(f"root.$router.push({json.dumps(path)}).catch(() => null); return true"))
    rec.step("route", path=path)
    await asyncio.sleep(1.5)


async def drive(cdp: Cdp, rec: Recorder, fe: dict[str, Any], args: argparse.Namespace,
                out: Path, base: str, gcode_name: str, second: Path) -> int:
    name = args.name
    routes = fe["routes"]

    async def shot(tag: str) -> None:
        await screenshot(cdp, rec, out / f"{name}-{tag}.png")

    try:
        await cdp.wait_for(js(fe["ready"]), timeout=60)
        rec.step("UI initialised")
    except TimeoutError:
        with contextlib.suppress(Exception):
            rec.step("UI NOT initialised", state=await cdp.evaluate(js(fe["init_left"])))
        await shot("init-stuck")
        return 1
    try:
        await cdp.wait_for(js(fe["temps"]), timeout=20)
    except TimeoutError:
        rec.step("no temperatures in the store")
    await asyncio.sleep(args.settle)
    await shot("dashboard")

    # files page, then start the print by clicking through the UI
    await goto(cdp, rec, routes["files"])
    try:
        await cdp.wait_for(js(f"return document.body.innerText.includes({json.dumps(gcode_name)})"),
                           timeout=15)
    except TimeoutError:
        rec.step("file not listed on the files page")
    await asyncio.sleep(2)
    await shot("files")

    started_by = "ui"
    clicked = await cdp.evaluate(click_text_js(gcode_name,
                                               sel="td, td *, .v-list-item *, div, span"))
    rec.step("clicked file row", ok=clicked)
    await asyncio.sleep(1.5)
    if clicked:
        await shot("start-dialog")
        text, sel, scope = fe["start_click"]
        ok = await cdp.evaluate(click_text_js(text, sel=sel, scope=scope))
        rec.step("clicked start button", ok=ok)
    try:
        await cdp.wait_for(js(fe["print_state"] + " === 'printing'"), timeout=20)
    except TimeoutError:
        started_by = "api"
        rec.step("UI did not start the print; starting it with the UI's own socket")
        await cdp.evaluate(js(emit(fe, "printer.print.start", {"filename": gcode_name})))
        with contextlib.suppress(TimeoutError):
            await cdp.wait_for(js(fe["print_state"] + " === 'printing'"), timeout=20)
    rec.step("print started", by=started_by,
             state=await cdp.evaluate(js(fe["print_state"])))

    # upload a second file through the UI's own file input while printing
    await goto(cdp, rec, routes["files"])
    await cdp.send("DOM.enable")
    doc = await cdp.send("DOM.getDocument", {"depth": -1})
    node = await cdp.send("DOM.querySelector", {"nodeId": doc["root"]["nodeId"],
                                                "selector": fe["upload_input"]})
    if node.get("nodeId"):
        await cdp.send("DOM.setFileInputFiles", {"nodeId": node["nodeId"], "files": [str(second)]})
        rec.step("file chosen in the UI's upload input", file=second.name)
        with contextlib.suppress(TimeoutError):
            await cdp.wait_for(js(f"return document.body.innerText.includes("
                                  f"{json.dumps(second.name)})"), timeout=15)
        await asyncio.sleep(1)
        await shot("files-after-upload")
    else:
        rec.step("no file input on the files page")

    await goto(cdp, rec, routes["dashboard"])
    with contextlib.suppress(TimeoutError):
        await cdp.wait_for(js(f"return ({fe['progress'].replace('return ', '')}) > 0.02"),
                           timeout=args.print_wait)
    await asyncio.sleep(args.settle)
    rec.step("printing", progress=await cdp.evaluate(js(fe["progress"])),
             state=await cdp.evaluate(js(fe["print_state"])))
    await shot("dashboard-printing")

    # console: type M114 into the console input and press Enter
    await goto(cdp, rec, routes["console"])
    focused = await cdp.evaluate(js(
        f"const el = [...document.querySelectorAll({json.dumps(fe['console_input'])})]"
        ".filter(e => e.getBoundingClientRect().width > 0)[0];"
        " if (!el) return false; el.focus(); return true"))
    rec.step("console input focused", ok=focused)
    if focused:
        await cdp.send("Input.insertText", {"text": "M114"})
        for kind in ("keyDown", "keyUp"):
            await cdp.send("Input.dispatchKeyEvent", {"type": kind, "key": "Enter", "code": "Enter",
                                                      "windowsVirtualKeyCode": 13,
                                                      "nativeVirtualKeyCode": 13})
        try:
            await cdp.wait_for(js("return /X:\\s*-?[0-9.]+\\s*Y:/.test(document.body.innerText)"),
                               timeout=15)
            rec.step("M114 answer shown in the console")
        except TimeoutError:
            rec.step("M114 answer NOT shown in the console")
        await asyncio.sleep(1)
    await shot("console")

    # wait for the print to end; cancel through the API if it takes too long
    try:
        await cdp.wait_for(js(fe["print_state"] + " === 'complete'"), timeout=args.print_wait)
        rec.step("print complete")
    except TimeoutError:
        rec.step("print still running; cancelling",
                 state=await cdp.evaluate(js(fe["print_state"])))
        await cdp.evaluate(js(emit(fe, "printer.print.cancel", {})))
        with contextlib.suppress(TimeoutError):
            await cdp.wait_for(js(fe["print_state"] + " === 'cancelled'"), timeout=30)
    await goto(cdp, rec, routes["dashboard"])
    await asyncio.sleep(1)
    await shot("dashboard-after")
    await goto(cdp, rec, routes["history"])
    await asyncio.sleep(1)
    await shot("history")
    await goto(cdp, rec, routes["machine"])
    await asyncio.sleep(2)
    if name == "mainsail":
        # the Endstops panel's sync button (icon only: the last button of that card)
        ok = await cdp.evaluate(js(
            "const h = [...document.querySelectorAll('.v-card .v-toolbar__title, .v-card span')]"
            ".find(e => e.textContent.trim() === 'Endstops');"
            " const card = h && h.closest('.v-card'); if (!card) return false;"
            " const b = [...card.querySelectorAll('button')].pop(); b.click(); return true"))
        rec.step("clicked endstop sync", ok=ok)
        await asyncio.sleep(1.5)
        # what the log buttons link to
        hrefs = await cdp.evaluate(js(
            "return [...document.querySelectorAll('a[href*=\"/server/files/\"]')]"
            ".map(a => a.href)"))
        rec.step("log links", hrefs=hrefs)
        for href in hrefs or []:
            await cdp.evaluate(js(f"await fetch({json.dumps(href)}); return true"))
    await shot("machine")

    # "Upload & Print" from the top bar while idle, then pause / resume / cancel through the
    # same socket the buttons use
    await goto(cdp, rec, routes["dashboard"])
    doc = await cdp.send("DOM.getDocument", {"depth": -1})
    node = (await cdp.send("DOM.querySelector", {"nodeId": doc["root"]["nodeId"],
                                                 "selector": fe["upload_print_input"]})
            if fe["upload_print_input"] else {})
    if node.get("nodeId"):
        await cdp.send("DOM.setFileInputFiles", {"nodeId": node["nodeId"], "files": [str(second)]})
        rec.step("Upload & Print chosen", file=second.name)
        try:
            await cdp.wait_for(js(fe["print_state"] + " === 'printing'"), timeout=20)
            rec.step("Upload & Print started the print")
            await asyncio.sleep(3)
            for action, want in (("pause", "paused"), ("resume", "printing"), ("pause", "paused")):
                await cdp.evaluate(js(emit(fe, f"printer.print.{action}", {})))
                with contextlib.suppress(TimeoutError):
                    await cdp.wait_for(js(fe["print_state"] + f" === '{want}'"), timeout=20)
                rec.step(f"after {action}", state=await cdp.evaluate(js(fe["print_state"])))
                if want == "paused":
                    await asyncio.sleep(1)
                    await shot("dashboard-paused")
            await cdp.evaluate(js(emit(fe, "printer.print.cancel", {})))
            with contextlib.suppress(TimeoutError):
                await cdp.wait_for(js(fe["print_state"] + " === 'cancelled'"), timeout=20)
            rec.step("after cancel", state=await cdp.evaluate(js(fe["print_state"])))
        except TimeoutError:
            rec.step("Upload & Print did not start a print",
                     state=await cdp.evaluate(js(fe["print_state"])))

    # emergency stop from the top bar, then FIRMWARE RESTART from the shutdown card
    if fe["estop"]:
        ok = await cdp.evaluate(click_text_js(fe["estop"]))
        await asyncio.sleep(0.5)
        await cdp.evaluate(click_text_js("Emergency Stop", scope=".v-dialog--active"))
        rec.step("clicked emergency stop", ok=ok)
        with contextlib.suppress(TimeoutError):
            await cdp.wait_for(js(fe["shutdown_state"] + " === 'shutdown'"), timeout=15)
        rec.step("after e-stop", state=await cdp.evaluate(js(fe["shutdown_state"])))
        restart_visible = ("return [...document.querySelectorAll('button')].some(b =>"
                           " b.getBoundingClientRect().width > 0 && b.textContent.trim()"
                           f".toLowerCase() === {json.dumps(fe['firmware_restart'].lower())})")
        with contextlib.suppress(TimeoutError):
            await cdp.wait_for(js(restart_visible), timeout=20)
        await asyncio.sleep(1)
        await shot("estop")
        try:  # the shutdown card re-renders while printer.info is polled: retry the click
            ok = await cdp.wait_for(click_text_js(fe["firmware_restart"]), timeout=20)
        except TimeoutError:
            ok = False
        rec.step("clicked firmware restart", ok=ok)
        try:
            await cdp.wait_for(js(fe["ready"] + " && " + fe["shutdown_state"].replace(
                "return ", "") + " === 'ready'"), timeout=60)
            rec.step("ready again after firmware restart")
        except TimeoutError:
            rec.step("NOT ready after firmware restart",
                     state=await cdp.evaluate(js(fe["init_left"])))
        await asyncio.sleep(3)
        await shot("after-restart")
    await asyncio.sleep(2)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dist", type=Path, required=True, help="built frontend (index.html)")
    parser.add_argument("--name", choices=sorted(FRONTENDS), default="mainsail")
    parser.add_argument("--out", type=Path, default=Path("docs/images"))
    parser.add_argument("--log", type=Path)
    parser.add_argument("--summary", type=Path)
    parser.add_argument("--time-scale", type=float, default=10.0)
    parser.add_argument("--layers", type=int, default=25)
    parser.add_argument("--moves", type=int, default=40)
    parser.add_argument("--settle", type=float, default=4.0, help="seconds before a screenshot")
    parser.add_argument("--print-wait", type=float, default=180.0)
    parser.add_argument("--keep", action="store_true", help="copy the data dir to /tmp")
    args = parser.parse_args()
    args.dist = args.dist.resolve()
    if not (args.dist / "index.html").exists():
        raise SystemExit(f"{args.dist} has no index.html")
    args.log = args.log or Path(tempfile.gettempdir()) / f"frontend_e2e-{args.name}.json"
    args.summary = args.summary or Path(tempfile.gettempdir()) / f"frontend_e2e-{args.name}.md"
    os.chdir(REPO)
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
