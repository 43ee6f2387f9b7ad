"""The test client page at /test/client/, driven in headless Chromium."""

from __future__ import annotations

import json
from pathlib import Path

from tests.chromium import open_page
from tests.harness import running_server


async def test_test_client_lists_methods_and_sends_a_call(tmp_path: Path) -> None:
    async with running_server(tmp_path) as srv, open_page(f"{srv.base}/test/client/") as page:
        await page.wait_for("document.body.dataset.ready === 'true'")
        count = await page.evaluate("document.getElementById('methods').options.length")
        assert count == len(srv.server.registry.methods)
        info = await page.evaluate("document.getElementById('info').textContent")
        assert "Skysail" in info
        await page.evaluate(
            "document.getElementById('method').value = 'server.database.post_item';"
            "document.getElementById('params').value = "
            + json.dumps(json.dumps({"namespace": "web", "key": "k", "value": 42}))
            + ";document.getElementById('send').click()"
        )
        text = await page.wait_for(
            "(() => { const t = document.getElementById('response').textContent;"
            " return t.includes('42') && t; })()"
        )
        assert json.loads(text) == {"namespace": "web", "key": "k", "value": 42}
        # an error is shown with its JSON-RPC code
        await page.evaluate(
            "document.getElementById('method').value = 'no.such.method';"
            "document.getElementById('params').value = '';"
            "document.getElementById('send').click()"
        )
        text = await page.wait_for(
            "(() => { const t = document.getElementById('response').textContent;"
            " return t.includes('-32601') && t; })()"
        )
        assert json.loads(text)["error"]["code"] == -32601
        # notifications broadcast by the server appear on the page
        srv.server.send_notification("notify_test_event", [{"hello": "page"}])
        await page.wait_for(
            "document.getElementById('notifications').textContent.includes('hello')"
        )
        assert (tmp_path / "database" / "skysail.sqlite").exists()
