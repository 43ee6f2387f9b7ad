"""GET/HEAD/DELETE /server/files/{root}/{path}: ranges, validators, types, refusals."""

from __future__ import annotations

import email.utils
import os
from pathlib import Path

import pytest

from tests.harness import RunningServer, running_server

from .conftest import RawHttp, decode, upload

DATA = bytes(range(256)) * 40  # 10240 bytes


@pytest.fixture
async def stored(srv: RunningServer) -> Path:
    path = srv.server.data_dir / "gcodes" / "dl.gcode"
    path.write_bytes(DATA)
    return path


async def raw_get(srv: RunningServer, target: str) -> tuple[int, dict[str, str], bytes]:
    raw = await RawHttp.open(srv.port)
    await raw.send(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    reply = await raw.read_response()
    await raw.close()
    return reply


async def test_whole_file_with_validators(srv: RunningServer, stored: Path) -> None:
    reply = await srv.http.get("/server/files/gcodes/dl.gcode")
    assert reply.status == 200 and reply.body == DATA
    assert reply.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert reply.headers["Content-Length"] == str(len(DATA))
    assert reply.headers["Accept-Ranges"] == "bytes"
    assert reply.headers["Content-Disposition"].startswith('attachment; filename="dl.gcode"')
    st = os.stat(stored)
    assert reply.headers["Last-Modified"] == email.utils.formatdate(st.st_mtime, usegmt=True)
    etag = reply.headers["Etag"]
    again = await srv.http.get("/server/files/gcodes/dl.gcode", headers={"If-None-Match": etag})
    assert again.status == 304 and again.body == b""
    later = email.utils.formatdate(st.st_mtime + 60, usegmt=True)
    since = await srv.http.get("/server/files/gcodes/dl.gcode",
                               headers={"If-Modified-Since": later})
    assert since.status == 304
    earlier = email.utils.formatdate(st.st_mtime - 60, usegmt=True)
    since = await srv.http.get("/server/files/gcodes/dl.gcode",
                               headers={"If-Modified-Since": earlier})
    assert since.status == 200
    # a changed file gets a new validator
    os.utime(stored, ns=(st.st_atime_ns, st.st_mtime_ns + 1000))
    changed = await srv.http.get("/server/files/gcodes/dl.gcode",
                                 headers={"If-None-Match": etag})
    assert changed.status == 200 and changed.headers["Etag"] != etag


@pytest.mark.parametrize(
    ("header", "status", "content_range", "body"),
    [
        ("bytes=0-9", 206, "bytes 0-9/10240", DATA[:10]),
        ("bytes=10000-", 206, "bytes 10000-10239/10240", DATA[10000:]),
        ("bytes=-16", 206, "bytes 10224-10239/10240", DATA[-16:]),
        ("bytes=10230-99999", 206, "bytes 10230-10239/10240", DATA[10230:]),
        ("bytes=0-", 200, None, DATA),
        ("bytes=0-1,5-6", 200, None, DATA),  # several ranges: the whole file
        ("pages=1-2", 200, None, DATA),
        ("bytes=10240-", 416, "bytes */10240", b""),
        ("bytes=-0", 416, "bytes */10240", b""),
    ],
)
async def test_ranges(
    srv: RunningServer, stored: Path, header: str, status: int, content_range: str | None,
    body: bytes,
) -> None:
    reply = await srv.http.get("/server/files/gcodes/dl.gcode", headers={"Range": header})
    assert reply.status == status
    assert reply.headers.get("Content-Range") == content_range
    assert reply.body == body


async def test_if_range_with_a_stale_etag_sends_everything(
    srv: RunningServer, stored: Path
) -> None:
    reply = await srv.http.get("/server/files/gcodes/dl.gcode",
                               headers={"Range": "bytes=0-9", "If-Range": '"stale"'})
    assert reply.status == 200 and reply.body == DATA


async def test_head_has_headers_only(srv: RunningServer, stored: Path) -> None:
    reply = await srv.http.request("HEAD", "/server/files/gcodes/dl.gcode")
    assert reply.status == 200 and reply.body == b""
    assert reply.headers["Content-Length"] == str(len(DATA))


@pytest.mark.parametrize(
    ("name", "kind"),
    [("a.png", "image/png"), ("a.jpg", "image/jpeg"), ("a.json", "application/json"),
     ("moonraker.conf", "text/plain; charset=utf-8"), ("a.zip", "application/zip"),
     ("a.unknownext", "application/octet-stream")],
)
async def test_content_types(srv: RunningServer, name: str, kind: str) -> None:
    (srv.server.data_dir / "config" / name).write_bytes(b"x")
    reply = await srv.http.get(f"/server/files/config/{name}")
    assert reply.status == 200 and reply.headers["Content-Type"] == kind


async def test_mainsail_theme_probe_is_a_clean_404(srv: RunningServer) -> None:
    for name in ("default.json", "maintenance.json"):
        reply = await srv.http.get(f"/server/files/config/.theme/{name}")
        assert reply.status == 404
        assert reply.headers["Content-Type"] == "application/json; charset=UTF-8"
        assert reply.json() == {"error": {"code": 404,
                                          "message": f"File not found: config/.theme/{name}"}}
    reply = await srv.http.get("/server/files/nope/x.gcode")
    assert reply.status == 404


@pytest.mark.parametrize(
    ("target", "status"),
    [
        ("/server/files/gcodes/../config/moonraker.conf", 403),
        ("/server/files/gcodes/%2e%2e/config/moonraker.conf", 403),
        ("/server/files/gcodes/%2E%2E%2Fconfig%2Fmoonraker.conf", 403),
        ("/server/files/gcodes/sub%2f..%2f..%2f..%2fetc%2fpasswd", 403),
        ("/server/files/gcodes//etc/passwd", 403),
        ("/server/files/gcodes/a%00b.gcode", 400),
        ("/server/files/logs/../../etc/passwd", 403),
    ],
)
async def test_traversal_is_refused(srv: RunningServer, target: str, status: int) -> None:
    got, headers, body = await raw_get(srv, target)
    assert got == status, body
    assert headers["content-type"] == "application/json; charset=UTF-8"
    assert decode(body)["error"]["message"].startswith("Invalid path")


async def test_symlink_escape_is_refused(srv: RunningServer, tmp_path: Path) -> None:
    secret = tmp_path.parent / f"{tmp_path.name}-secret.txt"
    secret.write_text("secret")
    (srv.server.data_dir / "gcodes" / "leak.gcode").symlink_to(secret)
    reply = await srv.http.get("/server/files/gcodes/leak.gcode")
    assert reply.status == 403
    assert b"secret" not in reply.body
    # and the link is not offered in listings either
    ws = await srv.websocket()
    assert await ws.call("server.files.list", {"root": "gcodes"}) == []


async def test_delete_over_http(srv: RunningServer) -> None:
    await upload(srv, "gone.gcode", b"G28\n")
    reply = await srv.http.delete("/server/files/gcodes/gone.gcode")
    assert reply.status == 200
    assert reply.json() == {"result": {
        "action": "delete_file",
        "item": {"modified": 0, "size": 0, "permissions": "", "path": "gone.gcode",
                 "root": "gcodes"}}}
    again = await srv.http.delete("/server/files/gcodes/gone.gcode")
    assert again.status == 400
    assert again.json()["error"]["message"] == "Invalid file path: gcodes/gone.gcode"
    (srv.server.data_dir / "logs" / "x.log").write_text("x")
    ro = await srv.http.delete("/server/files/logs/x.log")
    assert ro.status == 405


async def test_large_download_streams(srv: RunningServer) -> None:
    big = os.urandom(3 * 1024 * 1024 + 17)
    (srv.server.data_dir / "gcodes" / "big.gcode").write_bytes(big)
    reply = await srv.http.get("/server/files/gcodes/big.gcode")
    assert reply.status == 200 and reply.body == big
    part = await srv.http.get("/server/files/gcodes/big.gcode",
                              headers={"Range": "bytes=1048570-2097160"})
    assert part.status == 206 and part.body == big[1048570:2097161]


async def test_legacy_log_paths_serve_the_log(tmp_path: Path) -> None:
    async with running_server(tmp_path) as srv:
        log = srv.server.data_dir / "logs" / "moonraker.log"
        log.write_text("a line of log\n")
        for name in ("moonraker.log", "klippy.log"):
            reply = await srv.http.get(f"/server/files/{name}")
            assert reply.status == 200 and reply.body == b"a line of log\n"
