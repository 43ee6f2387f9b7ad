"""`/downloads/files/local/<path>`: where OctoPrint file entries point for downloads;
served by the files component's download handler from the gcodes root."""

from __future__ import annotations

from gateway.transports.files_http import FileHandler


class DownloadHandler(FileHandler):
    async def get(self, root: str, path: str) -> None:
        await super().get("gcodes", path)

    async def head(self, root: str, path: str) -> None:
        await super().head("gcodes", path)

    async def delete(self, root: str, path: str) -> None:
        self.send_error_json(405, "Method Not Allowed")
