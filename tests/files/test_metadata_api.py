"""server.files.metadata / metascan / thumbnails: cache, pickup, thumbnails follow files."""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

import components.files.metastore as metastore
from components.files.metadata import extract_metadata as original
from tests.harness import RpcError, RunningServer, running_server, wait_for

from .conftest import SAMPLES, upload


async def test_missing_file_is_404_and_minus_32601(srv: RunningServer) -> None:
    ws = await srv.websocket()
    with pytest.raises(RpcError) as err:
        await ws.call("server.files.metadata", {"filename": "nope.gcode"})
    assert (err.value.code, err.value.message) == (
        -32601, "Metadata not available for <nope.gcode>")
    http = await srv.http.get("/server/files/metadata?filename=nope.gcode")
    assert http.status == 404
    assert http.json() == {"error": {"code": 404,
                                     "message": "Metadata not available for <nope.gcode>"}}
    missing = await srv.http.get("/server/files/metadata")
    assert missing.status == 400
    assert missing.json()["error"]["message"] == "No data for argument: filename"
    (srv.server.data_dir / "gcodes" / "notes.txt").write_text("x")
    with pytest.raises(RpcError) as err:
        await ws.call("server.files.metadata", {"filename": "notes.txt"})
    assert err.value.code == -32601


async def test_unknown_slicer_gives_basic_fields(srv: RunningServer) -> None:
    await upload(srv, "odd.gcode", b"\x00\xff binary junk \x89PNG\r\n" * 50)
    ws = await srv.websocket()
    md = await ws.call("server.files.metadata", {"filename": "odd.gcode"})
    assert md["slicer"] == "Unknown" and md["filename"] == "odd.gcode"
    assert {"size", "modified", "uuid", "print_start_time", "job_id"} <= set(md)
    empty = await upload(srv, "empty.gcode", b"")
    assert empty[0] == 201
    md = await ws.call("server.files.metadata", {"filename": "empty.gcode"})
    assert md["size"] == 0


async def test_file_copied_in_is_picked_up(srv: RunningServer) -> None:
    ws = await srv.websocket()
    gcodes = srv.server.data_dir / "gcodes"
    (gcodes / "sub").mkdir()
    shutil.copyfile(SAMPLES / "cura.gcode", gcodes / "sub" / "dropped.gcode")
    # the first metadata request extracts it
    started = time.monotonic()
    md = await ws.call("server.files.metadata", {"filename": "sub/dropped.gcode"})
    assert md["slicer"] == "Cura" and time.monotonic() - started < 5
    # a listing picks up the rest and announces it
    shutil.copyfile(SAMPLES / "ideamaker.gcode", gcodes / "listed.gcode")
    listing = await ws.call("server.files.get_directory", {"path": "gcodes", "extended": True})
    entry = next(f for f in listing["files"] if f["filename"] == "listed.gcode")
    assert entry["slicer"] == "IdeaMaker"
    note = await ws.wait_notification(
        "notify_metadata_update", lambda n: n["params"][0]["filename"] == "listed.gcode")
    assert note["params"][0]["slicer"] == "IdeaMaker"
    # a file changed behind our back is re-read (size+mtime_ns validation)
    shutil.copyfile(SAMPLES / "kisslicer.gcode", gcodes / "listed.gcode")
    md = await ws.call("server.files.metadata", {"filename": "listed.gcode"})
    assert md["slicer"] == "KISSlicer"


async def test_metadata_survives_a_restart_from_the_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running_server(tmp_path) as srv:
        ws = await srv.websocket()
        await upload(srv, "keep.gcode", (SAMPLES / "prusaslicer.gcode").read_bytes())
        # complete once the miniature, made just after, is in
        await ws.wait_notification(
            "notify_metadata_update",
            lambda n: any(t["width"] == 32 for t in n["params"][0].get("thumbnails", [])))
        first = await ws.call("server.files.metadata", {"filename": "keep.gcode"})
    calls: list[Path] = []

    def counting(path: Path, *args: Any, **kwargs: Any) -> dict[str, object]:
        calls.append(path)
        return original(path, *args, **kwargs)

    monkeypatch.setattr(metastore, "extract_metadata", counting)
    async with running_server(tmp_path) as srv:
        ws = await srv.websocket()
        again = await ws.call("server.files.metadata", {"filename": "keep.gcode"})
        assert again == first  # same uuid: from the cache, not re-extracted
        assert calls == []
        # a file deleted while down is forgotten
        (tmp_path / "gcodes" / "keep.gcode").unlink()
    async with running_server(tmp_path) as srv:
        def rows() -> list[Any]:
            return srv.server.database.run_sync(
                lambda c: c.execute("SELECT path FROM file_metadata").fetchall())
        await wait_for(lambda: rows() == [], what="pruned cache row")


async def test_metascan_and_its_errors(srv: RunningServer) -> None:
    ws = await srv.websocket()
    await upload(srv, "scan.gcode", (SAMPLES / "simplify3d_v5.gcode").read_bytes())
    first = await ws.call("server.files.metadata", {"filename": "scan.gcode"})
    scanned = await ws.call("server.files.metascan", {"filename": "scan.gcode"})
    assert scanned["slicer"] == "Simplify3D" and scanned["uuid"] != first["uuid"]
    with pytest.raises(RpcError) as err:
        await ws.call("server.files.metascan", {"filename": "none.gcode"})
    assert (err.value.code, err.value.message) == (-32601, "File 'none.gcode' does not exist")
    (srv.server.data_dir / "gcodes" / "a.txt").write_text("x")
    with pytest.raises(RpcError) as err:
        await ws.call("server.files.metascan", {"filename": "a.txt"})
    assert err.value.code == 400
    http = await srv.http.post("/server/files/metascan?filename=scan.gcode")
    assert http.status == 200 and http.json()["result"]["filename"] == "scan.gcode"


async def test_thumbnails_follow_their_gcode(srv: RunningServer) -> None:
    ws = await srv.websocket()
    gcodes = srv.server.data_dir / "gcodes"
    await upload(srv, "t.gcode", (SAMPLES / "prusaslicer.gcode").read_bytes(), path="a")
    await ws.wait_notification(
        "notify_metadata_update",
        lambda n: any(t["width"] == 32 for t in n["params"][0].get("thumbnails", [])))
    thumbs = await ws.call("server.files.thumbnails", {"filename": "a/t.gcode"})
    assert thumbs and all(set(t) == {"width", "height", "size", "thumbnail_path"}
                          for t in thumbs)
    paths = [gcodes / t["thumbnail_path"] for t in thumbs]
    assert all(p.is_file() for p in paths)
    # moved to another folder: the thumbnails move too (same names, as Moonraker)
    await ws.call("server.files.post_directory", {"path": "gcodes/b"})
    await ws.call("server.files.move", {"source": "gcodes/a/t.gcode", "dest": "gcodes/b/t.gcode"})
    assert not any(p.exists() for p in paths)
    moved = await ws.call("server.files.thumbnails", {"filename": "b/t.gcode"})
    assert [t["thumbnail_path"] for t in moved] == [
        t["thumbnail_path"].replace("a/", "b/", 1) for t in thumbs]
    assert all((gcodes / t["thumbnail_path"]).is_file() for t in moved)
    # deleted: so are its thumbnails
    await ws.call("server.files.delete_file", {"path": "gcodes/b/t.gcode"})
    assert not any((gcodes / t["thumbnail_path"]).exists() for t in moved)
    assert await ws.call("server.files.thumbnails", {"filename": "b/t.gcode"}) == []
    http = await srv.http.get("/server/files/thumbnails?filename=nope.gcode")
    assert http.json() == {"result": []}


async def test_slow_extraction_never_stalls_the_loop(
    srv: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = asyncio.Event()
    loop = asyncio.get_running_loop()

    def slow(path: Path, *args: Any, **kwargs: Any) -> dict[str, object]:
        # a very slow SD card: blocks its thread until the test lets it go
        asyncio.run_coroutine_threadsafe(release.wait(), loop).result(30)
        return original(path, *args, **kwargs)

    monkeypatch.setattr(metastore, "extract_metadata", slow)
    (srv.server.data_dir / "gcodes" / "slow.gcode").write_bytes(b"G28\n")
    ws = await srv.websocket()
    pending = asyncio.ensure_future(ws.call("server.files.metadata", {"filename": "slow.gcode"}))
    # while the extraction hangs, other requests are answered promptly
    for _ in range(5):
        started = time.monotonic()
        info = await ws.call("server.info")
        assert info["klippy_state"] and time.monotonic() - started < 2
    assert not pending.done()
    release.set()
    md = await pending
    assert md["filename"] == "slow.gcode"


async def test_upload_then_metadata_is_immediate(srv: RunningServer) -> None:
    data = (SAMPLES / "orcaslicer.gcode").read_bytes()
    await upload(srv, "fast.gcode", data)
    ws = await srv.websocket()
    md = await ws.call("server.files.metadata", {"filename": "fast.gcode"})
    assert md["slicer"] == "OrcaSlicer"
    assert md["size"] == len(data)


async def test_miniature_follows_the_metadata_and_is_announced(srv: RunningServer) -> None:
    ws = await srv.websocket()
    await upload(srv, "mini.gcode", (SAMPLES / "prusaslicer.gcode").read_bytes())
    first = await ws.call("server.files.metadata", {"filename": "mini.gcode"})
    note = await ws.wait_notification(
        "notify_metadata_update",
        lambda n: n["params"][0]["filename"] == "mini.gcode"
        and any(t["width"] == 32 for t in n["params"][0].get("thumbnails", [])))
    thumbs = note["params"][0]["thumbnails"]
    assert thumbs[0]["width"] == 32 and thumbs[0]["relative_path"].endswith("-32x32.png")
    assert len(thumbs) == len(first["thumbnails"]) + (
        0 if any(t["width"] == 32 for t in first["thumbnails"]) else 1)
    again = await ws.call("server.files.metadata", {"filename": "mini.gcode"})
    assert again["thumbnails"] == thumbs
    png = await srv.http.get("/server/files/gcodes/" + thumbs[0]["relative_path"])
    assert png.status == 200 and png.body[:8] == b"\x89PNG\r\n\x1a\n"
