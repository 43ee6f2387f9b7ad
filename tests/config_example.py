"""Commented-out sections of moonraker.conf.example (`#[name]` up to the next blank line),
read back as a config, so tests can check that they document every option."""

from __future__ import annotations

from pathlib import Path

from gateway.config import Config

EXAMPLE = Path(__file__).resolve().parents[1] / "moonraker.conf.example"


def commented_config(header: str) -> Config:
    """The commented block that starts with `#[header]`, as a config of its own."""
    lines = EXAMPLE.read_text().splitlines()
    start = lines.index(f"#[{header}]")
    block: list[str] = []
    for line in lines[start:]:
        if not line.startswith("#"):
            break
        block.append(line[1:])
    return Config.from_string("\n".join(block))


def commented_section(header: str) -> dict[str, str]:
    """The options of the commented block that starts with `#[header]`."""
    return commented_config(header).raw(header)
