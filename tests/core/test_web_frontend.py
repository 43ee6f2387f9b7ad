"""[web] path: a built frontend served at / beside the API."""

from __future__ import annotations

from pathlib import Path

from tests.harness import running_server


async def test_frontend_folder_is_served_with_history_fallback(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<html>frontend</html>")
    (dist / "assets" / "app.js").write_text("console.log(1)")
    config = f"[server]\nhost: 127.0.0.1\nport: 0\n[web]\npath: {dist}\n"
    # outside the data directory: the host policy file must allow it
    policy = tmp_path / "host-policy.conf"
    policy.write_text(f"[web]\npath: {dist}\n")
    async with running_server(tmp_path / "data", config, host_policy=policy) as srv:
        index = await srv.http.get("/")
        assert index.status == 200 and index.body == b"<html>frontend</html>"
        assert index.headers["Cache-Control"] == "no-cache"
        asset = await srv.http.get("/assets/app.js")
        assert asset.status == 200 and "javascript" in asset.headers["Content-Type"]
        reload = await srv.http.get("/history")
        assert reload.body == b"<html>frontend</html>"
        assert (await srv.http.get("/assets/missing.js")).status == 404
        api = await srv.http.get("/server/info")
        assert api.json()["result"]["api_version_string"] == "1.5.0"
        unknown_api = await srv.http.get("/server/nope")
        assert unknown_api.status == 404 and unknown_api.json()["error"]["code"] == 404


async def test_missing_frontend_folder_is_a_warning(tmp_path: Path) -> None:
    config = f"[server]\nhost: 127.0.0.1\nport: 0\n[web]\npath: {tmp_path / 'none'}\n"
    policy = tmp_path / "host-policy.conf"
    policy.write_text(f"[web]\npath: {tmp_path / 'none'}\n")
    async with running_server(tmp_path / "data", config, host_policy=policy) as srv:
        info = (await srv.http.get("/server/info")).json()["result"]
        assert any("[web] path" in w for w in info["warnings"])
        assert (await srv.http.get("/")).status == 404
