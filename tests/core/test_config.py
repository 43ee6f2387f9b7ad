"""moonraker.conf parsing: typed values, clear errors, warnings for unknown options."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest

from gateway.config import Config, ConfigError
from gateway.settings import AuthorizationSection, ServerSection


def test_values_are_converted_to_their_declared_types() -> None:
    cfg = Config.from_string(
        "[server]\nport: 7200\nenable_debug_logging: True\n"
        "[authorization]\ntrusted_clients:\n  10.0.0.0/8\n  printer.local\n"
        "cors_domains: *.example.com, http://a\nmax_login_attempts: none\n"
    )
    server = cfg.section("server", ServerSection)
    assert server.port == 7200 and server.enable_debug_logging is True
    auth = cfg.section("authorization", AuthorizationSection)
    assert auth.trusted_clients == ["10.0.0.0/8", "printer.local"]
    assert auth.cors_domains == ["*.example.com", "http://a"]
    assert auth.max_login_attempts is None


def test_defaults_apply_without_a_file(tmp_path: Path) -> None:
    cfg = Config.load(tmp_path / "missing.conf")
    server = cfg.section("server", ServerSection)
    assert (server.host, server.port, server.max_websocket_connections) == ("127.0.0.1", 7125, 50)
    assert cfg.section("authorization", AuthorizationSection).trusted_clients == [
        "127.0.0.0/8", "::1/128"
    ]


def test_bad_value_names_section_option_and_expected_type() -> None:
    cfg = Config.from_string("[server]\nport: seventy\n")
    with pytest.raises(ConfigError) as err:
        cfg.section("server", ServerSection)
    assert str(err.value) == "[server] option 'port': expected int, got 'seventy'"


def test_out_of_range_value_is_refused_with_the_option_named() -> None:
    cfg = Config.from_string("[server]\nport: 70000\n")
    with pytest.raises(ConfigError, match=r"\[server\] option 'port'"):
        cfg.section("server", ServerSection)


def test_unknown_option_is_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    cfg = Config.from_string("[server]\nprot: 7125\n")
    with caplog.at_level(logging.WARNING):
        server = cfg.section("server", ServerSection)
    assert server.port == 7125
    assert "[server] unknown option 'prot' ignored" in caplog.text


def test_prefixed_sections_are_listed() -> None:
    cfg = Config.from_string("[gcode_macro PAUSE]\ngcode: M25\n[gcode_macro RESUME]\ngcode: M24\n")
    assert cfg.prefixed_sections("gcode_macro") == ["PAUSE", "RESUME"]


def test_typed_values_are_reported_for_server_config() -> None:
    cfg = Config.from_string("[server]\nport: 7200\n")
    cfg.section("server", ServerSection)
    assert cfg.as_dict()["server"]["port"] == 7200
    assert cfg.orig()["server"] == {"port": "7200"}
    msgspec.json.encode(cfg.as_dict())


def test_cli_refuses_to_start_on_a_bad_value(tmp_path: Path) -> None:
    conf = tmp_path / "config" / "moonraker.conf"
    conf.parent.mkdir(parents=True)
    conf.write_text("[server]\nmax_upload_size: lots\n")
    proc = subprocess.run(
        [sys.executable, "-m", "gateway", "-d", str(tmp_path), "-n"],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 2
    assert "[server] option 'max_upload_size': expected int, got 'lots'" in proc.stderr


def test_cli_creates_the_data_directory_layout(tmp_path: Path) -> None:
    from tests.harness import ServerProcess

    data = tmp_path / "pd"
    proc = ServerProcess(data)
    proc.start()
    try:
        for sub in ("config", "gcodes", "logs", "database"):
            assert (data / sub).is_dir()
    finally:
        assert proc.terminate() == 0


def test_none_clears_an_optional_list_option() -> None:
    import msgspec as m

    class Section(m.Struct, kw_only=True):
        bounds: tuple[float, float] | None = (1.0, 2.0)

    assert Config.from_string("[s]\nbounds: none\n").section("s", Section).bounds is None
    assert Config.from_string("[s]\nbounds: 3, 4\n").section("s", Section).bounds == (3.0, 4.0)


def test_sections_nobody_read_are_listed() -> None:
    cfg = Config.from_string(
        "[server]\n[fle_manager]\nx: 1\n[webcam front]\n[webcam back]\n[gcode_macro A]\n"
    )
    cfg.section("server", ServerSection)
    cfg.prefixed_sections("webcam")
    cfg.orig()  # server.config shows every section: that is not using them
    assert cfg.unread_sections() == ["fle_manager", "gcode_macro A"]


async def test_an_unknown_section_is_a_warning_in_server_info(tmp_path: Path) -> None:
    from tests.harness import DEFAULT_CONFIG, running_server

    config = (DEFAULT_CONFIG + "[fle_manager]\nenable_object_processing: True\n"
              "[webcam cam]\nstream_url: /webcam/\n")
    async with running_server(tmp_path, config) as srv:
        info = (await srv.http.get("/server/info")).json()["result"]
    assert info["warnings"] == [
        "Unknown config section [fle_manager] ignored (no loaded component uses it)"
    ]


async def test_the_database_folder_can_be_configured(tmp_path: Path) -> None:
    from tests.harness import DEFAULT_CONFIG, running_server

    folder = tmp_path / "elsewhere" / "db"
    config = DEFAULT_CONFIG + f"[database]\ndatabase_path: {folder}\n"
    # outside the data directory: the host policy file must allow it
    policy = tmp_path / "host-policy.conf"
    policy.write_text(f"[database]\ndatabase_path: {folder}\n")
    async with running_server(tmp_path / "data", config, host_policy=policy) as srv:
        await srv.http.post("/server/database/item",
                            body=b'{"namespace": "n", "key": "k", "value": 1}',
                            headers={"Content-Type": "application/json"})
        info = (await srv.http.get("/server/info")).json()["result"]
    assert info["warnings"] == []
    assert (folder / "skysail.sqlite").is_file()
    assert not (tmp_path / "data" / "database" / "skysail.sqlite").exists()
