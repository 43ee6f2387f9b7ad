"""`python -m bench.frontend_e2e --dist … --name mainsail|fluidd` (see __init__.py)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import tornado.websocket

from bench.common import SkysailProcess
from bench.frontend_e2e.cdp import Cdp, launch_chromium
from bench.frontend_e2e.controls import seed_preset
from bench.frontend_e2e.flow import drive
from bench.frontend_e2e.frontends import FRONTENDS
from bench.frontend_e2e.gcode import REPO, http_json, make_gcode, upload
from bench.frontend_e2e.recorder import Recorder, _short


async def run(args: argparse.Namespace) -> int:
    fe = FRONTENDS[args.name]
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240
    data_dir = Path(tempfile.mkdtemp(prefix=f"skysail-e2e-{args.name}-"))
    config = (f"[web]\npath: {args.dist}\n\n[serial]\nport: virtual\n"
              f"virtual_time_scale: {args.time_scale}\n\n"
              "[file_manager]\nenable_object_processing: True\n")
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
        seed_preset(base, args.name)
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


def main() -> int:
    parser = argparse.ArgumentParser(
        description="Run a built Mainsail or Fluidd against Skysail in headless Chromium")
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
