"""Fluidd's database card (System page) clicked in headless Chromium against Skysail
(by hand, not part of the pytest suite; the frontend build is not in the repository):

    .venv/bin/python -m bench.fluidd_database --dist /work/frontends/fluidd \
        --shot docs/images/fluidd-database-card.png

It starts Skysail with `[web] path: <dist>` and the virtual printer, stores a Fluidd
setting, clicks "Create Backup" and "Compact Database", changes the setting, clicks the
backup's restore button and confirms, waits for Fluidd to reconnect after the restart,
checks that the setting is back, then deletes the backup with its delete button. Every
`server.database.*` call Fluidd made is printed with its outcome; the exit status is 1 if
a step did not happen.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

import tornado.websocket

from bench.common import SkysailProcess
from bench.frontend_e2e import FRONTENDS, Cdp, Recorder, click_text_js, goto, js, launch_chromium

FE = FRONTENDS["fluidd"]
MARK = "fidelity.mark"


def _post_mark(value: str) -> str:
    params = json.dumps({"namespace": "fluidd", "key": MARK, "value": value})
    return js(FE["emit"] % ('"server.database.post_item"', params) + "; return true")


def _row_button(name: str, index: int) -> str:
    """Click the `index`th icon button of the backup's table row (0 restore, 1 delete)."""
    return js(f"""
        const row = [...document.querySelectorAll('tr')].find(
            r => r.innerText.includes({json.dumps(name)}));
        if (!row) return false;
        row.querySelectorAll('button')[{index}].click();
        return true;""")


def _mark(base: str) -> str:
    url = f"{base}/server/database/item?namespace=fluidd&key={MARK}"
    with urllib.request.urlopen(url) as resp:
        return str(json.load(resp)["result"]["value"])


async def _confirm(cdp: Cdp) -> bool:
    await asyncio.sleep(0.5)
    return bool(await cdp.evaluate(click_text_js("Yes"))
                or await cdp.evaluate(click_text_js("Confirm")))


async def drive(cdp: Cdp, rec: Recorder, base: str, data: Path, shot: Path | None) -> bool:
    await cdp.send("Page.navigate", {"url": base + "/"})
    await cdp.wait_for(js(FE["ready"]), 60)
    await cdp.evaluate(_post_mark("before"))
    await goto(cdp, rec, "/system")
    await cdp.wait_for(js("return document.body.innerText.includes('Moonraker Database')"), 30)
    ok = bool(await cdp.evaluate(click_text_js("Create Backup")))
    await cdp.wait_for(js("return st.database.info && st.database.info.backups.length === 1"),
                       30)
    name = str(await cdp.evaluate(js("return st.database.info.backups[0]")))
    made = (data / "backup" / "database" / name).is_file()
    print(f"Create Backup -> {name} (file on disk: {made})")
    ok = ok and made and bool(await cdp.evaluate(click_text_js("Compact Database")))
    await asyncio.sleep(1.5)
    await cdp.evaluate(_post_mark("after"))
    if shot is not None:
        png = (await cdp.send("Page.captureScreenshot", {"format": "png"}))["data"]
        shot.write_bytes(base64.b64decode(png))  # noqa: ASYNC240 - once
    ok = ok and bool(await cdp.evaluate(_row_button(name, 0))) and await _confirm(cdp)
    # the server restarts; Fluidd reconnects by itself
    await asyncio.sleep(3)
    await cdp.wait_for(js(FE["ready"]), 60)
    value = _mark(base)
    print(f"after restore the setting is {value!r} (stored 'before', changed to 'after')")
    ok = ok and value == "before"
    await goto(cdp, rec, "/system")
    await cdp.wait_for(js(f"return document.body.innerText.includes({json.dumps(name)})"), 30)
    ok = ok and bool(await cdp.evaluate(_row_button(name, 1))) and await _confirm(cdp)
    await cdp.wait_for(js("return st.database.info.backups.length === 0"), 30)
    gone = not (data / "backup" / "database" / name).exists()
    print(f"delete -> backups listed: 0, file removed: {gone}")
    return ok and gone


async def run(args: argparse.Namespace) -> int:
    data = Path(tempfile.mkdtemp(prefix="skysail-fluidd-db-"))
    config = f"[web]\npath: {args.dist}\n\n[serial]\nport: virtual\nvirtual_time_scale: 10\n"
    ok = False
    with SkysailProcess(config=config, data_dir=data) as sky:
        base = f"http://127.0.0.1:{sky.port}"
        rec = Recorder(base)
        profile = tempfile.mkdtemp(prefix="skysail-fluidd-db-chromium-")
        proc, ws_url = await launch_chromium(profile)
        cdp = Cdp(await tornado.websocket.websocket_connect(ws_url, max_message_size=1 << 28))
        cdp.on("Network.webSocketCreated", rec.ws_created)
        cdp.on("Network.webSocketFrameSent", rec.ws_sent)
        cdp.on("Network.webSocketFrameReceived", rec.ws_received)
        try:
            for domain in ("Page", "Network", "Runtime"):
                await cdp.send(f"{domain}.enable")
            await cdp.send("Emulation.setDeviceMetricsOverride",
                           {"width": 1400, "height": 900, "deviceScaleFactor": 1,
                            "mobile": False})
            ok = await drive(cdp, rec, base, data, args.shot)
        finally:
            for call in rec.calls:
                if call["method"].startswith("server.database."):
                    print(f"  {call['method']:32} {call['status']:7} "
                          f"{json.dumps(call.get('params'))[:70]}")
            cdp.close()
            proc.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(10)
            shutil.rmtree(profile, ignore_errors=True)
    shutil.rmtree(data, ignore_errors=True)
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dist", required=True, type=Path, help="a built Fluidd (index.html)")
    parser.add_argument("--shot", type=Path, default=None, help="screenshot of the card")
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
