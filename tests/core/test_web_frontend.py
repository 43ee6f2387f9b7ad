"""[web] path: a built frontend served at / beside the API."""

from __future__ import annotations

from pathlib import Path

from tests.harness import RunningServer, running_server


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
        await assert_welcome_page(srv)


async def assert_welcome_page(srv: RunningServer) -> None:
    page = await srv.http.get("/")
    assert page.status == 200 and page.headers["Content-Type"].startswith("text/html")
    text = page.body.decode()
    assert "--web mainsail" in text and 'href="/test/client/"' in text
    # only / itself: anything else stays a JSON 404
    other = await srv.http.get("/history")
    assert other.status == 404 and other.json()["error"]["code"] == 404


async def test_without_a_frontend_the_root_says_how_to_get_one(tmp_path: Path) -> None:
    async with running_server(tmp_path) as srv:
        await assert_welcome_page(srv)
        # linked from the page, and answering
        assert (await srv.http.get("/test/client/")).status == 200


async def test_the_welcome_page_needs_no_credentials(tmp_path: Path) -> None:
    config = "[server]\nhost: 127.0.0.1\nport: 0\n[authorization]\ntrusted_clients:\n"
    async with running_server(tmp_path, config) as srv:
        assert (await srv.http.get("/server/info")).status == 401
        await assert_welcome_page(srv)
