"""The frontends' controls that send Klipper commands, clicked as a user would: a heater
target, a preset, Cooldown, jog X+10 then an absolute move, extrude, Z-offset +0.05,
exclude an object on the job card, clear the finished job. Each step checks what the
frontend's store shows afterwards (the printer objects Skysail keeps)."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from collections.abc import Awaitable, Callable
from typing import Any

from bench.frontend_e2e.cdp import Cdp
from bench.frontend_e2e.frontends import click_text_js, js
from bench.frontend_e2e.recorder import Recorder

Shot = Callable[[str], Awaitable[None]]

# a preset each frontend offers once it is in their database (a returning user's)
PRESETS: dict[str, dict[str, Any]] = {
    "mainsail": {"namespace": "mainsail", "key": "presets.presets.e2e-pla",
                 "value": {"name": "PLA", "gcode": "", "values": {
                     "extruder": {"bool": True, "type": "heater", "value": 200},
                     "heater_bed": {"bool": True, "type": "heater", "value": 60}}}},
    "fluidd": {"namespace": "fluidd", "key": "uiSettings",
               "value": {"dashboard": {"tempPresets": [{"id": 1, "name": "PLA", "values": {
                   "extruder": {"value": 200, "type": "heater", "active": True},
                   "heater_bed": {"value": 60, "type": "heater", "active": True}}}]}}},
}
# icons (SVG path starts) of buttons without text
ARROW_RIGHT = "M4,11V13H16L10.5,18"  # Fluidd's X+ jog
Z_UP = "M2,20V22H22V20H13V5"  # Fluidd's Z offset +
ICON_BUTTON_JS = """const icon = (d) => [...document.querySelectorAll('button')].find(b => {
    const p = b.querySelector('svg path');
    return p && p.getAttribute('d').startsWith(d) && b.getBoundingClientRect().width > 0; });"""
# the Vue component that owns a data field or a method
FIND_VM_JS = """const findVm = (test) => { const walk = (vm) => { if (test(vm)) return vm;
    for (const c of vm.$children) { const f = walk(c); if (f) return f; } return null; };
    return walk(root); };"""


def seed_preset(base: str, name: str) -> None:
    body = json.dumps(PRESETS[name]).encode()
    req = urllib.request.Request(base + "/server/database/item", data=body, method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        resp.read()


class Controls:
    def __init__(self, cdp: Cdp, rec: Recorder, fe: dict[str, Any], name: str,
                 shot: Shot) -> None:
        self.cdp, self.rec, self.fe, self.name, self.shot = cdp, rec, fe, name, shot
        # where the printer objects are in each store
        self.p = "st.printer" if name == "mainsail" else "st.printer.printer"

    async def value(self, expr: str) -> Any:
        return await self.cdp.evaluate(js(f"return {expr.replace('P.', self.p + '.')}"))

    async def expect(self, what: str, expr: str, timeout: float = 20) -> bool:
        try:
            await self.cdp.wait_for(js(f"return {expr.replace('P.', self.p + '.')}"), timeout)
        except TimeoutError:
            self.rec.step(f"control FAILED: {what}", expected=expr)
            return False
        self.rec.step(f"control ok: {what}")
        return True

    async def type_enter(self, element_js: str, text: str) -> bool:
        ok = await self.cdp.evaluate(js(element_js + "; if (!el) return false; el.focus();"
                                        " el.select && el.select(); return true"))
        if not ok:
            return False
        await self.cdp.send("Input.insertText", {"text": text})
        key = {"key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13,
               "nativeVirtualKeyCode": 13}
        await self.cdp.send("Input.dispatchKeyEvent", {"type": "keyDown", "text": "\r", **key})
        await self.cdp.send("Input.dispatchKeyEvent", {"type": "keyUp", **key})
        return True

    async def click(self, text: str, sel: str = "button, .v-btn, [role=button]",
                    scope: str = "body") -> bool:
        ok = bool(await self.cdp.evaluate(click_text_js(text, sel=sel, scope=scope)))
        self.rec.step(f"clicked {text!r}", ok=ok)
        await asyncio.sleep(0.5)
        return ok

    async def click_icon(self, path: str) -> bool:
        ok = bool(await self.cdp.evaluate(js(ICON_BUTTON_JS + f"const b = icon({json.dumps(path)});"
                                             " if (!b) return false; b.click(); return true")))
        self.rec.step("clicked icon", path=path, ok=ok)
        return ok

    # -- the controls (the printer idle) ------------------------------------------------

    async def idle_controls(self) -> int:
        failures = 0
        row = "const el = [...document.querySelectorAll('tr')]" \
              ".filter(r => r.textContent.includes('Extruder'))[0].querySelector('input')"
        await self.type_enter(row, "205")
        failures += not await self.expect("heater target 205", "P.extruder.target === 205")
        await self.click("Presets")
        await self.click("PLA", sel=".v-list-item, .v-list-item *",
                         scope=".menuable__content__active")
        failures += not await self.expect("preset PLA", "P.extruder.target === 200"
                                          " && P.heater_bed.target === 60")
        await self.shot("controls-preset")
        # with presets, both put Cooldown in the presets menu
        await self.click("Presets")
        await self.click("Cooldown" if self.name == "mainsail" else "Heaters off",
                         sel=".v-list-item, .v-list-item *", scope=".menuable__content__active")
        failures += not await self.expect("Cooldown", "P.extruder.target === 0"
                                          " && P.heater_bed.target === 0")
        await self.click("All")
        failures += not await self.expect("home all", "P.toolhead.homed_axes === 'xyz'", 40)
        failures += not await self.jog_x10()
        failures += not await self.move_x50()
        await self.shot("controls-moved")
        failures += not await self.z_offset()
        failures += not await self.extrude()
        await self.shot("controls")
        return failures

    async def jog_x10(self) -> bool:
        if self.name == "mainsail":
            await self.cdp.evaluate(js(
                "const x = [...document.querySelectorAll('button')].find(b =>"
                " b.textContent.trim() === 'X' && b.className.includes('btnHomeAxis'));"
                " [...x.parentElement.querySelectorAll('button')]"
                ".find(b => b.textContent.trim() === '+10').click(); return true"))
        else:
            await self.click("10")
            await self.click_icon(ARROW_RIGHT)
        ok = await self.expect("jog X+10", "P.gcode_move.gcode_position[0] === 10")
        # the firmware is back in absolute mode after the jog's RESTORE_GCODE_STATE
        return ok and await self.expect("absolute again", "P.gcode_move.absolute_coordinates")

    async def move_x50(self) -> bool:
        if self.name == "mainsail":
            field = ("const el = [...document.querySelectorAll('.v-input')].filter(v => {"
                     " const s = v.querySelector('.v-text-field__suffix');"
                     " return s && s.textContent.trim() === 'X'; })"
                     ".map(v => v.querySelector('input'))[0]")
        else:
            field = ("const el = [...document.querySelectorAll('.v-input')].filter(v => {"
                     " const l = v.querySelector('label');"
                     " return l && l.textContent.trim().startsWith('X ['); })"
                     ".map(v => v.querySelector('input'))[0]")
        await self.type_enter(field, "50")
        return await self.expect("absolute move X50", "P.gcode_move.gcode_position[0] === 50")

    async def z_offset(self) -> bool:
        if self.name == "mainsail":
            await self.click("+0.05")
        else:
            await self.click("0.05")
            await self.click_icon(Z_UP)
        return await self.expect("Z-offset +0.05",
                                 "Math.abs(P.gcode_move.homing_origin[2] - 0.05) < 1e-9")

    async def extrude(self) -> bool:
        row = "const el = [...document.querySelectorAll('tr')]" \
              ".filter(r => r.textContent.includes('Extruder'))[0].querySelector('input')"
        await self.type_enter(row, "200")
        if not await self.expect("extruder hot", "P.extruder.can_extrude", 90):
            return False
        await self.click("Extrude")
        # the extrusion ran and the E position of before is back (RESTORE_GCODE_STATE)
        ok = await self.expect("extrude", "P.gcode_move.absolute_extrude === true")
        await self.type_enter(row, "0")
        return ok

    def scripts(self) -> list[tuple[str, str]]:
        """(script, answer) of every printer.gcode.script the frontend sent."""
        return [(str((c.get("params") or {}).get("script")), str(c["status"]))
                for c in self.rec.calls if c["method"] == "printer.gcode.script"]

    # -- on the job card -----------------------------------------------------------------

    async def exclude_object(self, name: str) -> bool:
        if self.name == "mainsail":
            await self.cdp.evaluate(js(
                FIND_VM_JS + "const sp = findVm(vm => vm.$options.methods"
                " && vm.$options.methods.btnExcludeObject);"
                " const bs = [...sp.$el.querySelector('header').querySelectorAll('button')];"
                " bs[bs.length - 2].click(); return true"))
            await asyncio.sleep(0.5)
            await self.click("Exclude Object", sel=".v-list-item, .v-list-item *",
                             scope=".menuable__content__active")
            await self.shot("exclude-dialog")
            await self.cdp.evaluate(js(
                "const rows = [...document.querySelectorAll('.exclude-object-dialog .row')]"
                f".filter(r => r.textContent.includes({json.dumps(name)})"
                " && r.querySelectorAll('.v-icon.cursor-pointer').length === 1);"
                " rows[0].querySelector('.v-icon.cursor-pointer').click(); return true"))
            await asyncio.sleep(0.5)
            await self.cdp.evaluate(js(
                "const ds = [...document.querySelectorAll('.v-dialog--active')];"
                " [...ds[ds.length - 1].querySelectorAll('button')].find(b =>"
                " b.textContent.trim().toLowerCase() === 'exclude object').click();"
                " return true"))
        else:
            await self.cdp.evaluate(js(
                FIND_VM_JS + "const sc = findVm(vm => vm.$data"
                " && vm.$data.showExcludeObjectDialog !== undefined);"
                " const bs = [...sc.$el.querySelectorAll('button.v-btn--icon')];"
                " bs[bs.length - 1].click(); return true"))
            await asyncio.sleep(0.5)
            await self.shot("exclude-dialog")
            await self.cdp.evaluate(js(
                "const tr = [...document.querySelectorAll('.v-dialog--active tr')]"
                f".find(r => r.textContent.includes({json.dumps(name)}));"
                " tr.querySelector('button').click(); return true"))
            await asyncio.sleep(0.5)
            await self.click("Yes")  # Fluidd's confirmation, over the dialog
        self.rec.step("exclude object clicked", name=name)
        ok = await self.expect(f"object {name} excluded",
                               f"P.exclude_object.excluded_objects.includes({json.dumps(name)})")
        await self.cdp.evaluate(js("document.querySelectorAll('.v-dialog--active').forEach("
                                   "d => d.dispatchEvent(new KeyboardEvent('keydown',"
                                   " {key: 'Escape', keyCode: 27, bubbles: true})));"
                                   " return true"))
        return ok

    async def clear_job(self) -> bool:
        if self.name == "mainsail":
            await self.cdp.evaluate(js(
                FIND_VM_JS + "const sp = findVm(vm => vm.$options.methods"
                " && vm.$options.methods.btnClearJob);"
                " const i = sp.filteredToolbarButtons.findIndex(b =>"
                " b.loadingName === 'statusPrintClear');"
                " [...sp.$el.querySelector('header').querySelectorAll('button')][i].click();"
                " return true"))
        else:
            await self.click("Clear File")
        return await self.expect("finished job cleared", "P.print_stats.state === 'standby'")
