"""machine.* and the server housekeeping methods, on the real server."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import msgspec
import tornado.httpclient

from tests.harness import ServerProcess, running_server


async def test_proc_stats_reports_real_figures(tmp_path: Path) -> None:
    async with running_server(tmp_path) as srv:
        ws = await srv.websocket()
        stats = await ws.call("machine.proc_stats")
        assert set(stats) >= {
            "moonraker_stats", "throttled_state", "cpu_temp", "network", "system_cpu_usage",
            "system_uptime", "system_memory", "websocket_connections",
        }
        assert stats["websocket_connections"] == 1
        assert stats["system_memory"]["total"] > 0
        assert "cpu" in stats["system_cpu_usage"]
        assert "lo" in stats["network"]
        entry = stats["moonraker_stats"][-1]
        assert entry["mem_units"] == "kB" and entry["memory"] > 10_000
        assert abs(entry["time"] - time.time()) < 60


async def test_proc_stat_update_reaches_every_websocket_each_second(tmp_path: Path) -> None:
    async with running_server(tmp_path) as srv:
        ws = await srv.websocket()
        first = await ws.wait_notification("notify_proc_stat_update", timeout=10)
        second = await ws.wait_notification(
            "notify_proc_stat_update", timeout=10, start=ws.notifications.index(first) + 1
        )
        payload = second["params"][0]
        assert set(payload) >= {"moonraker_stats", "cpu_temp", "network", "system_cpu_usage",
                                "websocket_connections"}
        assert payload["moonraker_stats"]["mem_units"] == "kB"
        assert second["params"][0]["moonraker_stats"]["time"] > \
            first["params"][0]["moonraker_stats"]["time"]


async def test_system_info_describes_the_host(tmp_path: Path) -> None:
    async with running_server(tmp_path) as srv:
        reply = (await srv.http.get("/machine/system_info")).json()["result"]["system_info"]
        assert reply["cpu_info"]["cpu_count"] >= 1
        assert reply["python"]["version_string"].startswith("3.")
        assert reply["instance_ids"]["moonraker"] == "skysail"
        assert "name" in reply["distribution"]


def _call(base: str, path: str, method: str = "GET") -> tuple[int, Any]:
    client = tornado.httpclient.HTTPClient()
    try:
        resp = client.fetch(base + path, method=method, raise_error=False,
                            body=b"" if method == "POST" else None)
        return resp.code, msgspec.json.decode(resp.body) if resp.body else {}
    except OSError:
        return 0, {}
    finally:
        client.close()


def test_restart_brings_the_server_back_on_the_same_port(tmp_path: Path) -> None:
    proc = ServerProcess(tmp_path)
    proc.start()
    try:
        code, body = _call(proc.base, "/server/restart", "POST")
        assert (code, body) == (200, {"result": "ok"})
        deadline = time.monotonic() + 30
        while "Skysail restarting" not in proc.output:
            assert time.monotonic() < deadline, proc.output
            time.sleep(0.05)
        while True:
            code, body = _call(proc.base, "/server/info")
            if code == 200:
                break
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert proc.output.count("listening on") == 2
    finally:
        proc.terminate()


def test_logs_rollover_rotates_the_log_file(tmp_path: Path) -> None:
    log_file = tmp_path / "logs" / "moonraker.log"
    proc = ServerProcess(tmp_path)
    proc.start(extra_args=["-l", str(log_file)], log_file=True)
    try:
        code, body = _call(proc.base, "/server/logs/rollover", "POST")
    finally:
        proc.terminate()
    assert (code, body["result"]) == (200, {"rolled_over": ["moonraker"], "failed": {}})
    assert (tmp_path / "logs" / "moonraker.log.1").exists()
    assert "Skysail listening" in (tmp_path / "logs" / "moonraker.log.1").read_text()
