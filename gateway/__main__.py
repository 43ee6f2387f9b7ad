"""skysail -d DATA_DIR [-c CONFIG] [-l LOGFILE] | skysail --list-ports"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path

from gateway.app import ServerOptions
from gateway.config import Config, ConfigError
from gateway.logs import LogManager
from gateway.runner import serve
from gateway.settings import ServerSection
from gateway.version import VERSION


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="skysail", description="Moonraker-compatible API server for Marlin printers"
    )
    parser.add_argument(
        "-d",
        "--datapath",
        type=Path,
        default=Path("~/printer_data").expanduser(),
        help="data directory holding config/, gcodes/, logs/, database/ (default ~/printer_data)",
    )
    parser.add_argument(
        "-c", "--configfile", type=Path, help="config file (default DATA_DIR/config/moonraker.conf)"
    )
    parser.add_argument(
        "-l", "--logfile", type=Path, help="log file (default DATA_DIR/logs/moonraker.log)"
    )
    parser.add_argument(
        "--host-policy",
        type=Path,
        help="host policy file: host paths and programs the config may name beyond the data "
        "directory (scripts/install.sh writes PREFIX/host-policy.conf); see docs/THREAT_MODEL.md",
    )
    parser.add_argument("-n", "--nologfile", action="store_true", help="log to stderr only")
    parser.add_argument(
        "--list-ports",
        action="store_true",
        help="list serial ports that may be a printer (with /dev/serial/by-id names) and exit",
    )
    parser.add_argument("--version", action="version", version=f"skysail {VERSION}")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.list_ports:
        from gateway.hostlink.ports import format_ports, list_ports

        print(format_ports(list_ports()), end="")
        return 0
    data_dir: Path = args.datapath.expanduser().resolve()
    options = ServerOptions(
        data_dir=data_dir,
        config_path=args.configfile.expanduser().resolve() if args.configfile else None,
        log_file=None if args.nologfile else (args.logfile or data_dir / "logs" / "moonraker.log"),
        host_policy=args.host_policy.expanduser().resolve() if args.host_policy else None,
    )
    try:
        server_cfg = Config.load(options.resolved_config_path).section("server", ServerSection)
    except ConfigError as exc:
        print(f"skysail: configuration error: {exc}", file=sys.stderr)
        return 2
    logs = LogManager()
    logs.setup(
        options.log_file,
        level="DEBUG" if server_cfg.enable_debug_logging else server_cfg.log_level,
        max_bytes=server_cfg.log_max_size * 1024 * 1024,
        backup_count=server_cfg.log_backup_count,
        # under systemd stderr goes to the journal: with a log file that would write
        # every line to the SD card twice
        console=options.log_file is None or "INVOCATION_ID" not in os.environ,
    )
    try:
        asyncio.run(serve(options, logs))
    except ConfigError as exc:
        logging.getLogger("skysail").error("configuration error: %s", exc)
        print(f"skysail: configuration error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"skysail: {exc}", file=sys.stderr)
        return 1
    finally:
        logs.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
