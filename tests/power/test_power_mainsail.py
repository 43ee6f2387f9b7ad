"""Mainsail (a real build) in headless Chromium shows Skysail's power devices and sensors
and switches a device from its power menu (issue 20). bench/fleet_mainsail.py is the same
walk with screenshots, by hand."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bench import fleet_mainsail
from bench.frontend_e2e import FRONTENDS, click_text_js, js
from tests.chromium import Page, find_chromium, open_page
from tests.harness import running_server, wait_for
from tests.power.fake_devices import fake_devices
from tests.update_manager.test_install_web import MAINSAIL

pytestmark = [
    pytest.mark.skipif(find_chromium() is None, reason="chromium is not installed"),
    pytest.mark.skipif(not (MAINSAIL / "index.html").is_file(),
                       reason=f"no Mainsail build at {MAINSAIL} (SKYSAIL_MAINSAIL_DIST)"),
]


def config(web: Path, plug: str) -> str:
    """bench/fleet_mainsail.py's printer, devices and sensors on an ephemeral port."""
    return "[server]\nhost: 127.0.0.1\nport: 0\n" + fleet_mainsail.config(web, plug)


async def state(page: Page, body: str, timeout: float = 30) -> object:
    """Wait until `body` (with `st` = Mainsail's store state) returns something true."""
    return await page.wait_for(js(body), timeout=timeout)


async def test_mainsail_shows_power_devices_and_sensors_and_switches_a_device(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    web = data / "mainsail"
    shutil.copytree(MAINSAIL, web)
    async with fake_devices() as fake, \
            running_server(data, config(web, fake.address)) as srv:
        await wait_for(lambda: srv.server.klippy_state == "ready", 30, "printer ready")
        async with open_page(srv.base + "/") as page:
            await state(page, FRONTENDS["mainsail"]["ready"], timeout=90)
            await state(page, "return st.server.power.devices.map(d => d.device)"
                              ".sort().join() === 'lights,psu'")
            await state(page, "const s = st.server.sensor.sensors; return !!(s.chamber"
                              " && typeof s.chamber.values.temperature === 'number'"
                              " && s.board)")
            # the dashboard's Miscellaneous panel lists the sensors with their values
            panel = await state(page, "const p = document.querySelector("
                                      "'.miscellaneous-panel'); return p && p.innerText")
            await state(page, "const t = document.querySelector('.miscellaneous-panel')"
                              ".innerText; return t.includes('Chamber') &&"
                              " t.includes('Board') && /Temperature:\\s*\\d+/.test(t)")
            assert panel
            await state(page, "return st.server.power.devices.find("
                              "d => d.device === 'lights').status === 'off'")
            # the power menu is the rightmost button of the app bar
            assert await page.evaluate(js(
                "const b = [...document.querySelectorAll('header button')]"
                ".filter(b => b.getBoundingClientRect().width > 0)"
                ".sort((x, y) => x.getBoundingClientRect().right -"
                " y.getBoundingClientRect().right);"
                " if (!b.length) return false; b[b.length - 1].click(); return true"))
            await state(page, "const m = document.querySelector('.menuable__content__active');"
                              " return !!m && m.innerText.includes('Power Devices') &&"
                              " m.innerText.includes('lights') && m.innerText.includes('psu')")
            assert not fake.state.relays[1]
            # the menu's items are clickable once its opening transition has run (under
            # load that can be after the text is there): click as soon as one is
            assert await page.wait_for(click_text_js(
                "lights", sel=".v-list-item__title", scope=".menuable__content__active"),
                timeout=30)
            # the device itself switched (its own state), and Mainsail shows it on
            await wait_for(lambda: fake.state.relays[1], 15, "the Tasmota relay on")
            await state(page, "return st.server.power.devices.find("
                              "d => d.device === 'lights').status === 'on'")
            assert any("cmnd=Power1+On" in r for r in fake.state.requests), \
                fake.state.requests
