"""Where snapshots come from (a webcam's snapshot URL, or a URL in the config) and one
bounded JPEG fetch with tornado's AsyncHTTPClient: a slow or dead camera costs a frame,
never more than `timeout` seconds, and never touches the print."""

from __future__ import annotations

import re

import tornado.httpclient

from components.webcams.api import WebcamsApi
from components.webcams.camera import full_url

JPEG_MAGIC = b"\xff\xd8"


class SnapshotError(Exception):
    """Why no frame came back (one line for the log and the newframe event)."""


def is_url(text: str) -> bool:
    return bool(re.match(r"^\w+://", text)) or text.startswith("/")


async def snapshot_url(camera: str, webcams: WebcamsApi | None) -> str | None:
    """The URL to fetch for the `camera` setting: a URL as given, a webcam by name, or
    (empty) the first enabled webcam with a snapshot URL. None when there is none."""
    if camera and is_url(camera):
        return full_url(camera)
    if webcams is None:
        return None
    for cam in await webcams.webcams():
        if camera and cam.name != camera:
            continue
        if not camera and not cam.enabled:
            continue
        if cam.snapshot_url:
            return full_url(cam.snapshot_url)
        if camera:
            return None
    return None


class Snapshotter:
    def __init__(self) -> None:
        self._client = tornado.httpclient.AsyncHTTPClient(force_instance=True)

    async def fetch(self, url: str, timeout: float) -> bytes:
        """The JPEG at `url` within `timeout` seconds, or SnapshotError."""
        try:
            reply = await self._client.fetch(
                url, connect_timeout=timeout, request_timeout=timeout, raise_error=False,
                follow_redirects=True, decompress_response=False)
        except tornado.httpclient.HTTPClientError as exc:
            if exc.code == 599 and "Timeout" in str(exc):
                raise SnapshotError(f"{url}: timed out after {timeout:g} s") from None
            raise SnapshotError(f"{url}: {exc}") from None
        except Exception as exc:  # DNS, refused, reset: all the same to us
            raise SnapshotError(f"{url}: {exc}") from None
        if reply.code != 200:
            raise SnapshotError(f"{url}: HTTP {reply.code}")
        body = reply.body or b""
        if not body.startswith(JPEG_MAGIC):
            raise SnapshotError(f"{url}: not a JPEG image ({len(body)} bytes)")
        return body

    def close(self) -> None:
        self._client.close()
