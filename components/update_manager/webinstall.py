"""Install the latest release of a web client, as the update manager upgrades one; used
by scripts/install.sh --web.

    python -m components.update_manager.webinstall --name mainsail \\
        --repo mainsail-crew/mainsail --path ~/printer_data/mainsail [--channel stable] \\
        [--releases-url URL]

Prints progress lines; on failure one line `error: …` on stderr and exit status 1."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from components.update_manager import webarchive
from components.update_manager.base import UpdateError
from components.update_manager.config import WebSection
from components.update_manager.webclient import install, latest

KNOWN = {"mainsail": "mainsail-crew/mainsail", "fluidd": "fluidd-core/fluidd"}


async def run(args: argparse.Namespace) -> str:
    section = WebSection(type="web", repo=args.repo or KNOWN[args.name], path=str(args.path),
                         channel=args.channel, releases_url=args.releases_url)
    release = await latest(section, args.name)
    installed = webarchive.read_release_info(Path(args.path)).get("version")
    if installed == release.tag:
        print(f"{args.name} {release.tag} is already installed", flush=True)
        return release.tag
    await install(section, args.name, release, lambda line: print(line, flush=True))
    return release.tag


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="webinstall", description=__doc__.split("\n")[0])
    parser.add_argument("--name", required=True)
    parser.add_argument("--repo", help="owner/name (known for mainsail and fluidd)")
    parser.add_argument("--path", required=True, type=Path)
    parser.add_argument("--channel", default="stable", choices=("stable", "beta"))
    parser.add_argument("--releases-url")
    args = parser.parse_args(argv)
    if args.repo is None and args.name not in KNOWN:
        parser.error(f"--repo is needed for {args.name}")
    try:
        asyncio.run(run(args))
    except (UpdateError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
