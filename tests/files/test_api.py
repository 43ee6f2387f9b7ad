"""server.files.*: roots, listings, folders, move/copy/zip/delete, notifications, 409."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import pytest

from components.printer.api import JobFinished, JobStarted
from tests.harness import RpcError, RunningServer

from .conftest import upload

GCODE = b"; plain\nG28\nG1 X1\n"


async def test_roots_info_and_registered_directories(srv: RunningServer) -> None:
    ws = await srv.websocket()
    roots = await ws.call("server.files.roots")
    data = srv.server.data_dir.resolve()
    assert roots == [
        {"name": "config", "path": str(data / "config"), "permissions": "rw"},
        {"name": "logs", "path": str(data / "logs"), "permissions": "r"},
        {"name": "gcodes", "path": str(data / "gcodes"), "permissions": "rw"},
    ]
    info = await ws.call("server.info")
    assert {"config", "logs", "gcodes"} <= set(info["registered_directories"])
    assert "file_manager" in info["components"]
    http = await srv.http.get("/server/files/roots")
    assert http.json()["result"] == roots


async def test_config_examples_root_when_present(tmp_path: Path) -> None:
    from tests.harness import running_server

    (tmp_path / "config_examples").mkdir()
    (tmp_path / "config_examples" / "printer.cfg").write_text("[printer]\n")
    async with running_server(tmp_path) as srv:
        ws = await srv.websocket()
        roots = {r["name"]: r["permissions"] for r in await ws.call("server.files.roots")}
        assert roots["config_examples"] == "r"
        listed = await ws.call("server.files.list", {"root": "config_examples"})
        assert [e["path"] for e in listed] == ["printer.cfg"]
        with pytest.raises(RpcError) as err:
            await ws.call("server.files.post_directory", {"path": "config_examples/x"})
        assert err.value.code == 403


async def test_list_files(srv: RunningServer) -> None:
    gcodes = srv.server.data_dir / "gcodes"
    (gcodes / "B").mkdir()
    (gcodes / "B" / "z.gcode").write_bytes(GCODE)
    (gcodes / "a.gcode").write_bytes(GCODE)
    (gcodes / "notes.txt").write_text("not gcode")
    (gcodes / ".skysail-upload-123.part").write_text("half")
    ws = await srv.websocket()
    listed = await ws.call("server.files.list", {"root": "gcodes"})
    assert [e["path"] for e in listed] == ["a.gcode", "B/z.gcode"]
    st = (gcodes / "a.gcode").stat()
    assert listed[0] == {"path": "a.gcode", "modified": st.st_mtime, "size": st.st_size,
                         "permissions": "rw"}
    (srv.server.data_dir / "config" / ".hidden.bkp").write_text("x")
    config = await ws.call("server.files.list", {"root": "config"})
    assert {".hidden.bkp", "moonraker.conf"} <= {e["path"] for e in config}
    default = await srv.http.get("/server/files/list")
    assert [e["path"] for e in default.json()["result"]] == ["a.gcode", "B/z.gcode"]
    with pytest.raises(RpcError) as err:
        await ws.call("server.files.list", {"root": "nope"})
    assert (err.value.code, err.value.message) == (
        400, "Failed to build file list, invalid path: nope: None")


async def test_get_directory_shapes(srv: RunningServer) -> None:
    await upload(srv, "cube.gcode", (Path(__file__).parent.parent / "files_metadata" /
                                     "samples" / "prusaslicer.gcode").read_bytes())
    ws = await srv.websocket()
    plain = await ws.call("server.files.get_directory", {"path": "gcodes"})
    assert set(plain) == {"dirs", "files", "disk_usage", "root_info"}
    assert plain["root_info"] == {"name": "gcodes", "permissions": "rw"}
    assert set(plain["disk_usage"]) == {"total", "used", "free"}
    assert [d["dirname"] for d in plain["dirs"]] == [".thumbs"]
    assert set(plain["dirs"][0]) == {"modified", "size", "permissions", "dirname"}
    assert plain["files"] == [{**{k: plain["files"][0][k] for k in ("modified", "size")},
                               "permissions": "rw", "filename": "cube.gcode"}]
    extended = await ws.call("server.files.get_directory", {"path": "gcodes", "extended": True})
    entry = extended["files"][0]
    assert entry["filename"] == "cube.gcode"
    assert entry["slicer"] == "PrusaSlicer" and entry["thumbnails"]
    thumbs = await ws.call("server.files.get_directory", {"path": "gcodes/.thumbs"})
    assert all(f["filename"].startswith("cube-") for f in thumbs["files"])
    with pytest.raises(RpcError) as err:
        await ws.call("server.files.get_directory", {"path": "gcodes/nope"})
    assert (err.value.code, err.value.message) == (400, "Directory does not exist (gcodes/nope)")
    http = await srv.http.get("/server/files/directory?path=gcodes&extended=true")
    assert http.json()["result"]["files"][0]["slicer"] == "PrusaSlicer"


async def test_directories_create_and_delete(srv: RunningServer) -> None:
    ws = await srv.websocket()
    made = await ws.call("server.files.post_directory", {"path": "gcodes/new"})
    assert made["action"] == "create_dir"
    assert made["item"]["path"] == "new" and made["item"]["root"] == "gcodes"
    assert set(made["item"]) == {"modified", "size", "permissions", "path", "root"}
    note = await ws.wait_notification("notify_filelist_changed")
    assert note["params"] == [made]
    with pytest.raises(RpcError) as err:
        await ws.call("server.files.post_directory", {"path": "gcodes/new"})
    assert err.value.code == 400 and "File exists" in err.value.message
    (srv.server.data_dir / "gcodes" / "new" / "x.gcode").write_bytes(GCODE)
    with pytest.raises(RpcError) as err:
        await ws.call("server.files.delete_directory", {"path": "gcodes/new"})
    assert err.value.code == 400 and "not empty" in err.value.message
    gone = await ws.call("server.files.delete_directory", {"path": "gcodes/new", "force": True})
    assert gone == {"action": "delete_dir", "item": {"modified": 0, "size": 0, "permissions": "",
                                                      "path": "new", "root": "gcodes"}}
    assert not (srv.server.data_dir / "gcodes" / "new").exists()
    with pytest.raises(RpcError) as err:
        await ws.call("server.files.delete_directory", {"path": "gcodes"})
    assert err.value.message == "Cannot delete root directory"
    with pytest.raises(RpcError) as err:
        await ws.call("server.files.post_directory", {"path": "logs/x"})
    assert err.value.code == 403
    http = await srv.http.post("/server/files/directory", json={"path": "config/sub"})
    assert http.status == 200 and http.json()["result"]["action"] == "create_dir"
    http = await srv.http.delete("/server/files/directory?path=config/sub")
    assert http.status == 200 and http.json()["result"]["action"] == "delete_dir"


async def test_move_copy_and_their_notifications(srv: RunningServer) -> None:
    ws = await srv.websocket()
    await upload(srv, "a.gcode", GCODE)
    await ws.call("server.files.post_directory", {"path": "gcodes/dir"})
    start = len(ws.notifications)
    moved = await ws.call("server.files.move", {"source": "gcodes/a.gcode", "dest": "gcodes/dir"})
    assert moved["action"] == "move_file"
    assert moved["item"]["path"] == "dir/a.gcode" and moved["item"]["size"] == len(GCODE)
    assert moved["source_item"] == {"path": "a.gcode", "root": "gcodes"}
    note = await ws.wait_notification("notify_filelist_changed", start=start)
    assert note["params"] == [moved]
    copied = await ws.call("server.files.copy",
                           {"source": "gcodes/dir/a.gcode", "dest": "gcodes/b.gcode"})
    assert copied["action"] == "create_file" and "source_item" not in copied
    again = await ws.call("server.files.copy",
                          {"source": "gcodes/dir/a.gcode", "dest": "gcodes/b.gcode"})
    assert again["action"] == "modify_file"
    tree = await ws.call("server.files.copy", {"source": "gcodes/dir", "dest": "gcodes/dir2"})
    assert tree["action"] == "create_dir"
    renamed = await ws.call("server.files.move", {"source": "gcodes/dir2", "dest": "gcodes/d3"})
    assert renamed["action"] == "move_dir"
    cross = await ws.call("server.files.copy",
                          {"source": "gcodes/b.gcode", "dest": "config/b.gcode"})
    assert cross["item"]["root"] == "config"
    listed = {e["path"] for e in await ws.call("server.files.list", {"root": "gcodes"})}
    assert listed == {"b.gcode", "dir/a.gcode", "d3/a.gcode"}
    for params, words in [
        ({"source": "gcodes/nope.gcode", "dest": "gcodes/x.gcode"}, "does not exist"),
        ({"source": "gcodes/b.gcode", "dest": "logs/b.gcode"}, "read-only"),
        ({"source": "gcodes/b.gcode", "dest": "gcodes/../../x"}, "'..'"),
    ]:
        with pytest.raises(RpcError) as err:
            await ws.call("server.files.move", params)
        assert words in err.value.message
    http = await srv.http.post("/server/files/move",
                               json={"source": "gcodes/b.gcode", "dest": "gcodes/c.gcode"})
    assert http.status == 200 and http.json()["result"]["item"]["path"] == "c.gcode"


async def test_delete_file_websocket(srv: RunningServer) -> None:
    ws = await srv.websocket()
    await upload(srv, "parts/tiny.gcode", GCODE)
    start = len(ws.notifications)
    result = await ws.call("server.files.delete_file", {"path": "gcodes/parts/tiny.gcode"})
    expected = {"action": "delete_file", "item": {"modified": 0, "size": 0, "permissions": "",
                                                   "path": "parts/tiny.gcode", "root": "gcodes"}}
    assert result == expected
    note = await ws.wait_notification("notify_filelist_changed", start=start)
    assert note["params"] == [expected]
    with pytest.raises(RpcError) as err:
        await ws.call("server.files.delete_file", {"path": "gcodes/parts/tiny.gcode"})
    assert err.value.code == 400


async def test_zip(srv: RunningServer) -> None:
    ws = await srv.websocket()
    await upload(srv, "a.gcode", GCODE)
    await upload(srv, "sub/b.gcode", GCODE)
    result = await ws.call("server.files.zip",
                           {"items": ["gcodes/a.gcode", "gcodes/sub"], "dest": "gcodes/all.zip"})
    assert result["action"] == "zip_files"
    assert result["destination"]["path"] == "all.zip"
    with zipfile.ZipFile(srv.server.data_dir / "gcodes" / "all.zip") as zf:
        assert sorted(zf.namelist()) == ["gcodes/a.gcode", "gcodes/sub/b.gcode"]
        assert zf.read("gcodes/a.gcode") == GCODE
    default = await ws.call("server.files.zip", {"items": ["config/moonraker.conf"]})
    assert default["destination"]["root"] == "config"
    assert default["destination"]["path"].startswith("collection-")
    with pytest.raises(RpcError) as err:
        await ws.call("server.files.zip", {"items": ["gcodes/nope"], "dest": "gcodes/x.zip"})
    assert err.value.code == 400
    assert not (srv.server.data_dir / "gcodes" / "x.zip").exists()
    assert not list((srv.server.data_dir / "gcodes").glob(".skysail-upload-*"))


async def test_file_being_printed_is_protected(srv: RunningServer) -> None:
    ws = await srv.websocket()
    await upload(srv, "jobs/part.gcode", GCODE)
    srv.server.events.emit(JobStarted("jobs/part.gcode"))
    attempts: list[tuple[str, dict[str, Any]]] = [
        ("server.files.delete_file", {"path": "gcodes/jobs/part.gcode"}),
        ("server.files.move", {"source": "gcodes/jobs/part.gcode", "dest": "gcodes/x.gcode"}),
        ("server.files.move", {"source": "gcodes/jobs", "dest": "gcodes/other"}),
        ("server.files.delete_directory", {"path": "gcodes/jobs", "force": True}),
        ("server.files.copy", {"source": "gcodes/jobs/part.gcode",
                               "dest": "gcodes/jobs/part.gcode.bak"}),
    ]
    for method, params in attempts[:4]:
        with pytest.raises(RpcError) as err:
            await ws.call(method, params)
        assert err.value.code == 409, method
        assert "jobs/part.gcode is being printed" in err.value.message
    await ws.call("server.files.copy",
                  {"source": "gcodes/jobs/part.gcode", "dest": "gcodes/c.gcode"})
    with pytest.raises(RpcError) as err:
        await ws.call("server.files.copy", {"source": "gcodes/c.gcode",
                                            "dest": "gcodes/jobs/part.gcode"})
    assert err.value.code == 409
    http = await srv.http.delete("/server/files/gcodes/jobs/part.gcode")
    assert http.status == 409
    assert (srv.server.data_dir / "gcodes" / "jobs" / "part.gcode").read_bytes() == GCODE
    srv.server.events.emit(JobFinished("jobs/part.gcode", "completed"))
    await ws.call("server.files.delete_file", {"path": "gcodes/jobs/part.gcode"})


async def test_a_component_registers_its_folder_as_a_root(srv: RunningServer) -> None:
    files = srv.server.components["files"]
    videos = srv.server.data_dir / "timelapse"
    files.register_directory("timelapse", videos, True)  # type: ignore[attr-defined]
    (videos / "print.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42")
    ws = await srv.websocket()
    roots = await ws.call("server.files.roots")
    assert "timelapse" in [r["name"] for r in roots]
    assert "timelapse" in (await ws.call("server.info"))["registered_directories"]
    listed = await ws.call("server.files.list", {"root": "timelapse"})
    assert [f["path"] for f in listed] == ["print.mp4"]
    download = await srv.http.get("/server/files/timelapse/print.mp4")
    assert download.status == 200 and download.body.startswith(b"\x00\x00\x00\x18ftyp")
    await ws.call("server.files.delete_file", {"path": "timelapse/print.mp4"})
    assert not (videos / "print.mp4").exists()
