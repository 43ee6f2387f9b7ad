"""A project's release list (GitHub's `GET /repos/{owner}/{repo}/releases` shape) and the
release a channel follows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class FeedError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Release:
    tag: str
    prerelease: bool
    asset_name: str
    asset_url: str
    # bytes, if the feed says
    size: int | None = None
    # "sha256:<hex>", if the feed says (GitHub lists one per asset)
    digest: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"tag": self.tag, "prerelease": self.prerelease, "asset_name": self.asset_name,
                "asset_url": self.asset_url, "size": self.size, "digest": self.digest}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Release:
        return cls(str(data["tag"]), bool(data.get("prerelease")), str(data["asset_name"]),
                   str(data["asset_url"]), data.get("size"), data.get("digest"))


def pick(feed: Any, channel: str, asset_name: str) -> Release:
    """The newest release for `channel` ("stable": no pre-releases; "beta": any) that
    carries `asset_name`. The feed lists the newest first, as GitHub does."""
    if not isinstance(feed, list):
        raise FeedError("the release feed is not a list of releases")
    for item in feed:
        if not isinstance(item, dict) or item.get("draft"):
            continue
        prerelease = bool(item.get("prerelease"))
        if prerelease and channel != "beta":
            continue
        tag = item.get("tag_name")
        if not isinstance(tag, str) or not tag:
            continue
        for asset in item.get("assets") or []:
            if not isinstance(asset, dict) or asset.get("name") != asset_name:
                continue
            url = asset.get("browser_download_url")
            if not isinstance(url, str) or not url:
                continue
            size = asset.get("size")
            digest = asset.get("digest")
            return Release(tag, prerelease, asset_name, url,
                           size if isinstance(size, int) else None,
                           digest if isinstance(digest, str) and digest else None)
    raise FeedError(f"no {channel} release with an asset named {asset_name}")
