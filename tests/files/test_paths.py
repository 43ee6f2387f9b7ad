"""Roots.resolve: every user path ends inside its root, or is refused with a reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from components.files.roots import Roots
from gateway.errors import BadRequest, Forbidden


@pytest.fixture
def roots(tmp_path: Path) -> Roots:
    r = Roots()
    r.add("gcodes", tmp_path / "data" / "gcodes", True)
    r.add("logs", tmp_path / "data" / "logs", False)
    return r


def test_plain_paths_resolve_inside(roots: Roots, tmp_path: Path) -> None:
    t = roots.split_request_path("/gcodes/sub/./a.gcode")
    assert (t.root.name, t.rel) == ("gcodes", "sub/a.gcode")
    assert t.path == (tmp_path / "data" / "gcodes" / "sub" / "a.gcode").resolve()
    assert roots.split_request_path("gcodes").rel == ""


@pytest.mark.parametrize(
    ("path", "error", "words"),
    [
        ("gcodes/../logs/x", Forbidden, "'..'"),
        ("gcodes/a/../../x", Forbidden, "'..'"),
        ("gcodes//etc/passwd", Forbidden, "absolute"),
        ("gcodes/a\x00b", BadRequest, "NUL"),
        ("gcodes/" + "n" * 256, BadRequest, "255"),
        ("gcodes/" + "a/" * 2100, BadRequest, "4096"),
        ("nope/x", BadRequest, "Invalid root path (nope)"),
        ("", BadRequest, "Invalid path"),
    ],
)
def test_bad_paths_are_refused(roots: Roots, path: str, error: type, words: str) -> None:
    with pytest.raises(error) as info:
        roots.split_request_path(path)
    assert words in str(info.value)


def test_symlinks_may_not_leave_the_root(roots: Roots, tmp_path: Path) -> None:
    gcodes = roots.require("gcodes").path
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_text("x")
    (gcodes / "out").symlink_to(outside)
    (gcodes / "inner").mkdir()
    (gcodes / "in").symlink_to(gcodes / "inner")
    with pytest.raises(Forbidden, match="outside root 'gcodes'"):
        roots.resolve("gcodes", "out/secret")
    with pytest.raises(Forbidden, match="outside root 'gcodes'"):
        roots.resolve("gcodes", "out")
    assert roots.resolve("gcodes", "in/x.gcode").rel == "in/x.gcode"


def test_owner_maps_disk_paths_back(roots: Roots) -> None:
    gcodes = roots.require("gcodes").path
    t = roots.owner(gcodes / "a" / "b.gcode")
    assert t is not None and (t.root.name, t.rel) == ("gcodes", "a/b.gcode")
    assert roots.owner(Path("/etc/passwd")) is None
