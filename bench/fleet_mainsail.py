"""Mainsail (a real build) in headless Chromium shows Skysail's power devices and sensors
and switches a device (by hand, not part of the pytest suite; docs/fleet.md).

    .venv/bin/python -m bench.fleet_mainsail --dist /work/frontends/mainsail --out docs/images

Starts a Tasmota-speaking HTTP device (tests/power/fake_devices.py) and Skysail with
`[web] path: <dist>`, the virtual printer (with PSU control and chamber/probe/board
sensors), `[power lights]` (tasmota), `[power psu]` (marlin) and `[sensor chamber]`,
`[sensor board]` (printer); opens Mainsail, checks that its store and its panels show the
devices and sensors, opens the power menu in the top corner and clicks "lights", then
checks that the device switched (its own HTTP API says so) and that Mainsail shows it on.
Screenshots go to `<out>/mainsail-power-*.png`; every JSON-RPC call of the page is
recorded and the power/sensor ones are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import tornado.websocket

from bench.common import SkysailProcess
from bench.frontend_e2e import (
    FRONTENDS,
    Cdp,
    Recorder,
    click_text_js,
    http_json,
    js,
    launch_chromium,
    screenshot,
)
from tests.power.fake_devices import FakeDevices


def config(dist: Path, plug: str) -> str:
    return f"""
[web]
path: {dist}

[serial]
port: virtual
virtual_time_scale: 10
virtual_software_power: True
virtual_extra_sensors: CPM

[power lights]
type: tasmota
address: {plug}

[power psu]
type: marlin
locked_while_printing: True

[sensor chamber]
type: printer
name: Chamber

[sensor board]
type: printer
name: Board
"""


async def run(args: argparse.Namespace) -> int:
    fake = FakeDevices()
    data_dir = Path(tempfile.mkdtemp(prefix="skysail-mainsail-power-"))
    out: Path = args.out
    with SkysailProcess(config(args.dist, fake.address), data_dir) as sky:
        base = f"http://127.0.0.1:{sky.port}"
        rec = Recorder(base)
        deadline = time.monotonic() + 60
        while http_json(base + "/server/info")["result"]["klippy_state"] != "ready":
            if time.monotonic() > deadline:
                raise SystemExit("the virtual printer never became ready")
            await asyncio.sleep(0.2)
        profile = tempfile.mkdtemp(prefix="skysail-mainsail-chromium-")
        proc, ws_url = await launch_chromium(profile)
        ws = await tornado.websocket.websocket_connect(ws_url, max_message_size=256 << 20)
        cdp = Cdp(ws)
        cdp.on("Network.webSocketFrameSent", rec.ws_sent)
        cdp.on("Network.webSocketFrameReceived", rec.ws_received)
        cdp.on("Runtime.exceptionThrown", rec.exception)
        failures: list[str] = []
        try:
            for domain in ("Page", "Network", "Runtime"):
                await cdp.send(f"{domain}.enable")
            await cdp.send("Network.setBypassServiceWorker", {"bypass": True})
            await cdp.send("Emulation.setDeviceMetricsOverride",
                           {"width": 1400, "height": 900, "deviceScaleFactor": 1,
                            "mobile": False})
            await cdp.send("Page.navigate", {"url": base + "/"})
            await cdp.wait_for(js(FRONTENDS["mainsail"]["ready"]), timeout=90)
            rec.step("Mainsail initialised")
            await check(cdp, rec, failures, "the store lists both power devices",
                        "return st.server.power.devices.length === 2")
            await check(cdp, rec, failures, "the store has the sensors with values",
                        "const s = st.server.sensor.sensors; return !!(s.chamber && "
                        "typeof s.chamber.values.temperature === 'number' && s.board)")
            await check(cdp, rec, failures, "the Miscellaneous panel shows the sensors",
                        "const p = document.querySelector('.miscellaneous-panel');"
                        " if (!p) return false; p.scrollIntoView({block: 'center'});"
                        " return p.innerText.includes('Chamber') &&"
                        " p.innerText.includes('Board') &&"
                        " /Temperature:\\s*\\d+/.test(p.innerText)")
            await asyncio.sleep(2)
            await screenshot(cdp, rec, out / "mainsail-power-sensors.png")
            await cdp.evaluate(js("window.scrollTo(0, 0); document.querySelector("
                                  "'#page-container, main').scrollTop = 0; return true"))
            # the power menu: the rightmost button of the app bar
            opened = await cdp.evaluate(js(
                "const buttons = [...document.querySelectorAll('header button')]"
                ".filter(b => b.getBoundingClientRect().width > 0)"
                ".sort((a, b) => a.getBoundingClientRect().right -"
                " b.getBoundingClientRect().right);"
                " if (!buttons.length) return false; buttons[buttons.length - 1].click();"
                " return buttons[buttons.length - 1].outerHTML.slice(0, 80)"))
            rec.step("opened the top corner menu", ok=opened)
            await check(cdp, rec, failures, "the menu lists the power devices",
                        "const t = document.querySelector('.menuable__content__active');"
                        " return !!t && t.innerText.includes('Power Devices') &&"
                        " t.innerText.includes('lights') && t.innerText.includes('psu')")
            await screenshot(cdp, rec, out / "mainsail-power-menu.png")
            clicked = await cdp.evaluate(click_text_js(
                "lights", sel=".v-list-item__title", scope=".menuable__content__active"))
            rec.step("clicked 'lights'", ok=clicked)
            with contextlib.suppress(TimeoutError):
                await cdp.wait_for(js("return st.server.power.devices.find("
                                      "d => d.device === 'lights').status === 'on'"), 15)
            if fake.state.relays[1]:
                rec.step("the Tasmota device switched on (its own API says POWER1 ON)")
            else:
                failures.append("the device did not switch")
            await check(cdp, rec, failures, "Mainsail shows lights on",
                        "return st.server.power.devices.find(d => d.device === 'lights')"
                        ".status === 'on'")
            await asyncio.sleep(1)
            await screenshot(cdp, rec, out / "mainsail-power-switched.png")
        finally:
            cdp.close()
            proc.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(10)
            shutil.rmtree(profile, ignore_errors=True)
            await fake.close()
        for call in rec.calls:
            if call["method"].startswith(("machine.device_power", "server.sensors")):
                print(f"  {call['method']} {json.dumps(call.get('params'))} -> "
                      f"{call['status']} {call.get('result', call.get('message', ''))}")
        for name in ("notify_power_changed", "notify_sensor_update"):
            print(f"  {name}: {rec.notifications[name]} received")
        for failure in failures:
            print("FAILED:", failure)
    shutil.rmtree(data_dir, ignore_errors=True)
    return 1 if failures else 0


async def check(cdp: Cdp, rec: Recorder, failures: list[str], what: str, body: str) -> None:
    try:
        await cdp.wait_for(js(body), timeout=30)
        rec.step(f"ok: {what}")
    except TimeoutError:
        rec.step(f"FAILED: {what}")
        failures.append(what)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dist", type=Path, default=Path("/work/frontends/mainsail"))
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()))
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    raise SystemExit(main())
