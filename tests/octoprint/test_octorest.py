"""The `octorest` PyPI client (a real OctoPrint client library) driving Skysail:
connect, upload, print, poll the job's progress, cancel."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from tests.octoprint.conftest import Octo, long_gcode, wait_job

octorest = pytest.importorskip("octorest")


def drive(url: str, key: str, gcode: Path) -> dict[str, Any]:
    """Blocking, as a script using octorest runs (in a thread: the server shares our loop)."""
    client = octorest.OctoRest(url=url, apikey=key)  # probes /api/version
    seen: dict[str, Any] = {"version": client.version}
    client.connect()
    deadline = time.monotonic() + 30
    while client.state() != "Operational":
        assert time.monotonic() < deadline, client.state()
        time.sleep(0.05)
    # octorest's upload(select=, print=) loses the flags (see docs): select afterwards
    seen["upload"] = client.upload(str(gcode))
    seen["files"] = client.files()
    client.select("long.gcode", print=True)
    deadline = time.monotonic() + 60
    while True:
        job = client.job_info()
        completion = job["progress"]["completion"]
        if job["state"] == "Printing" and completion is not None and completion > 0:
            break
        assert time.monotonic() < deadline, job
        time.sleep(0.05)
    seen["job"] = job
    seen["printer"] = client.printer()
    client.cancel()
    seen["connection"] = client.connection_info()
    return seen


async def test_octorest_drives_a_print(octo: Octo, tmp_path: Path) -> None:
    gcode = tmp_path / "long.gcode"
    gcode.write_bytes(long_gcode())
    seen = await asyncio.to_thread(drive, octo.srv.base, octo.key, gcode)
    assert seen["version"]["text"].startswith("OctoPrint")
    assert seen["upload"]["done"] is True
    assert seen["upload"]["files"]["local"]["name"] == "long.gcode"
    assert [f["name"] for f in seen["files"]["files"]] == ["long.gcode"]
    assert seen["job"]["job"]["file"]["name"] == "long.gcode"
    assert 0 < seen["job"]["progress"]["completion"] < 100
    assert seen["job"]["progress"]["printTimeLeft"] is not None
    assert seen["printer"]["state"]["flags"]["printing"] is True
    assert seen["connection"]["current"]["port"] == "VIRTUAL"
    job = await wait_job(octo, ("Operational",))
    assert job["job"]["file"]["name"] == "long.gcode"
    assert job["progress"]["completion"] < 100
