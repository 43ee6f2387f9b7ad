"""The print flow: dashboard, files, start by clicking, upload, console, history, machine,
Upload & Print with pause/resume/cancel, e-stop and firmware restart."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
from pathlib import Path
from typing import Any

from bench.frontend_e2e.cdp import Cdp, screenshot
from bench.frontend_e2e.controls import Controls
from bench.frontend_e2e.frontends import click_text_js, emit, goto, js
from bench.frontend_e2e.recorder import Recorder


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

    # the controls that send Klipper commands, while the printer is idle
    controls = Controls(cdp, rec, fe, name, shot)
    failures = await controls.idle_controls()

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
    # exclude an object on the job card (the upload got EXCLUDE_OBJECT markers)
    with contextlib.suppress(TimeoutError):
        await cdp.wait_for(js(f"return {controls.p}.exclude_object.objects.length >= 2"),
                           timeout=60)
    await asyncio.sleep(1)
    failures += not await controls.exclude_object("CUBE_ID_1_COPY_0")
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
    failures += not await controls.clear_job()
    await asyncio.sleep(1)
    await shot("dashboard-cleared")
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
    for script, status in controls.scripts():
        rec.step("script sent by the UI", status=status, script=script.replace("\n", " | "))
    rec.step("controls done", failures=failures)
    return 1 if failures else 0
