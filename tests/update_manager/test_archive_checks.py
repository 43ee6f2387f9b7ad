"""The release feed's channels and the checks a web client zip must pass."""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path

import pytest

from components.update_manager import webarchive
from components.update_manager.releases import FeedError, pick
from components.update_manager.system import parse_upgradable
from tests.update_manager.releaseserver import client_zip, zip_bytes

FEED = [
    {"tag_name": "v3.0.0-rc1", "prerelease": True, "draft": False,
     "assets": [{"name": "mainsail.zip", "browser_download_url": "u3", "size": 3}]},
    {"tag_name": "v2.9.0", "prerelease": False, "draft": True,
     "assets": [{"name": "mainsail.zip", "browser_download_url": "u29"}]},
    {"tag_name": "v2.8.0", "prerelease": False, "draft": False,
     "assets": [{"name": "other.zip", "browser_download_url": "x"},
                {"name": "mainsail.zip", "browser_download_url": "u28",
                 "digest": "sha256:ab"}]},
]


def test_stable_skips_prereleases_and_drafts_beta_takes_the_newest() -> None:
    stable = pick(FEED, "stable", "mainsail.zip")
    assert (stable.tag, stable.asset_url, stable.digest) == ("v2.8.0", "u28", "sha256:ab")
    beta = pick(FEED, "beta", "mainsail.zip")
    assert (beta.tag, beta.prerelease, beta.size) == ("v3.0.0-rc1", True, 3)
    with pytest.raises(FeedError, match=r"no stable release with an asset named fluidd\.zip"):
        pick(FEED, "stable", "fluidd.zip")
    with pytest.raises(FeedError):
        pick({"message": "rate limited"}, "stable", "mainsail.zip")


def write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "client.zip"
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("name", ["../evil.html", "/etc/evil", "a\\..\\b", "x/../../y"])
def test_paths_leaving_the_folder_are_refused(tmp_path: Path, name: str) -> None:
    path = write(tmp_path, zip_bytes({"index.html": "<p>", name: "x"}))
    with pytest.raises(webarchive.ArchiveError, match="unsafe path"):
        webarchive.check(path)


def test_symlinks_in_the_zip_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "client.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("index.html", "<p>")
        link = zipfile.ZipInfo("passwd")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/passwd")
    with pytest.raises(webarchive.ArchiveError, match="link or special file"):
        webarchive.check(path)


def test_a_zip_without_index_html_or_not_a_zip_is_refused(tmp_path: Path) -> None:
    with pytest.raises(webarchive.ArchiveError, match=r"no index\.html"):
        webarchive.check(write(tmp_path, zip_bytes({"readme.txt": "hi"})))
    with pytest.raises(webarchive.ArchiveError, match="not a valid zip"):
        webarchive.check(write(tmp_path, b"<html>404 page from a proxy</html>"))
    truncated = client_zip("v1", "t")[:-30]
    with pytest.raises(webarchive.ArchiveError):
        webarchive.check(write(tmp_path, truncated))


def test_a_client_wrapped_in_one_folder_is_unpacked_from_it(tmp_path: Path) -> None:
    path = write(tmp_path, zip_bytes({"fluidd/index.html": "<p>", "fluidd/a/b.js": "1"}))
    prefix = webarchive.check(path)
    assert prefix == "fluidd/"
    webarchive.unpack(path, prefix, tmp_path / "out")
    assert (tmp_path / "out" / "index.html").read_text() == "<p>"
    assert (tmp_path / "out" / "a" / "b.js").is_file()


def test_swap_in_exchanges_folders_and_swap_back_restores(tmp_path: Path) -> None:
    live, new, previous = tmp_path / "live", tmp_path / "new", tmp_path / ".live.previous"
    live.mkdir()
    (live / "v").write_text("1")
    new.mkdir()
    (new / "v").write_text("2")
    webarchive.swap_in(new, live, previous)
    assert (live / "v").read_text() == "2" and (previous / "v").read_text() == "1"
    assert not new.exists()
    webarchive.swap_back(live, previous)
    assert (live / "v").read_text() == "1" and (previous / "v").read_text() == "2"


def test_apt_upgradable_list_is_parsed() -> None:
    text = ("Listing... Done\n"
            "libtiff6/stable-security 4.5.0-6+deb12u2 amd64 [upgradable from: 4.5.0-6+deb12u1]\n"
            "rpi-eeprom/stable 28.2-1 arm64 [upgradable from: 28.1-1]\n"
            "WARNING: apt does not have a stable CLI interface.\n")
    assert parse_upgradable(text) == ["libtiff6", "rpi-eeprom"]
