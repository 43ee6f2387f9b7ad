"""Per-frontend knowledge: routes, how to read the app's state, how to click."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from bench.frontend_e2e.cdp import Cdp
from bench.frontend_e2e.recorder import Recorder

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
const enabled = (el) => { const b = el.closest('button, .v-btn');
    return !b || !(b.disabled || b.classList.contains('v-btn--disabled')); };
const cands = [...scope.querySelectorAll(%(sel)s)].filter(el => visible(el) && enabled(el) &&
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


async def goto(cdp: Cdp, rec: Recorder, path: str) -> None:
    await cdp.evaluate(js(f"root.$router.push({json.dumps(path)}).catch(() => null); return true"))
    rec.step("route", path=path)
    await asyncio.sleep(1.5)
