"""What the frontend sends and receives: every JSON-RPC call paired with its answer, HTTP
requests with their status, the page's console errors."""

from __future__ import annotations

import collections
import json
import re
import time
from typing import Any

# answers kept whole in the JSON log (the others are abridged)
FULL_RESULTS = {"server.info", "printer.info", "printer.objects.list", "printer.objects.subscribe",
                "server.config", "machine.system_info", "printer.objects.query"}


def _short(value: Any, limit: int = 300) -> str:
    text = json.dumps(value, separators=(",", ":"), default=str)
    return text if len(text) <= limit else text[:limit] + "…"


class Recorder:
    def __init__(self, base: str) -> None:
        self.base = base
        self.t0 = time.monotonic()
        self.sockets: dict[str, dict[str, Any]] = {}
        self.pending: dict[tuple[str, Any], dict[str, Any]] = {}
        self.calls: list[dict[str, Any]] = []
        self.notifications: collections.Counter[str] = collections.Counter()
        self.notification_samples: dict[str, str] = {}
        self.http: dict[str, dict[str, Any]] = {}
        self.console: list[dict[str, Any]] = []
        self.steps: list[dict[str, Any]] = []

    def now(self) -> float:
        return round(time.monotonic() - self.t0, 3)

    def step(self, text: str, **extra: Any) -> None:
        print(f"[{self.now():7.2f}] {text}", *(f"{k}={v}" for k, v in extra.items()), flush=True)
        self.steps.append({"t": self.now(), "step": text, **extra})

    # websocket --------------------------------------------------------------------------
    def ws_created(self, p: dict[str, Any]) -> None:
        self.sockets[p["requestId"]] = {"url": p["url"], "opened": self.now(), "closed": None}

    def ws_closed(self, p: dict[str, Any]) -> None:
        if p["requestId"] in self.sockets:
            self.sockets[p["requestId"]]["closed"] = self.now()

    def ws_sent(self, p: dict[str, Any]) -> None:
        try:
            data = json.loads(p["response"]["payloadData"])
        except (ValueError, KeyError):
            return
        for req in data if isinstance(data, list) else [data]:
            if not isinstance(req, dict) or "method" not in req:
                continue
            rec = {"t": self.now(), "socket": p["requestId"], "method": req["method"],
                   "params": req.get("params"), "id": req.get("id"),
                   "batch": isinstance(data, list),
                   "status": "pending"}
            self.calls.append(rec)
            if "id" in req:
                self.pending[(p["requestId"], req["id"])] = rec
            else:
                rec["status"] = "notification-sent"

    def ws_received(self, p: dict[str, Any]) -> None:
        try:
            data = json.loads(p["response"]["payloadData"])
        except (ValueError, KeyError):
            return
        for msg in data if isinstance(data, list) else [data]:
            if not isinstance(msg, dict):
                continue
            if "id" in msg and ("result" in msg or "error" in msg):
                rec = self.pending.pop((p["requestId"], msg["id"]), None)
                if rec is None:
                    self.calls.append({"t": self.now(), "socket": p["requestId"], "method": "?",
                                       "id": msg["id"], "status": "unmatched-answer",
                                       "answer": _short(msg)})
                    continue
                rec["dt_ms"] = round((self.now() - rec["t"]) * 1000, 1)
                if "error" in msg:
                    err = msg["error"] or {}
                    rec["status"] = "error"
                    rec["code"] = err.get("code")
                    rec["message"] = err.get("message")
                else:
                    rec["status"] = "ok"
                    rec["result"] = _short(msg["result"], 600)
                    if rec["method"] in FULL_RESULTS:
                        rec["full_result"] = msg["result"]
            elif "method" in msg:
                self.notifications[msg["method"]] += 1
                self.notification_samples.setdefault(msg["method"], _short(msg.get("params"), 400))

    # http -------------------------------------------------------------------------------
    def http_sent(self, p: dict[str, Any]) -> None:
        req = p["request"]
        if not req["url"].startswith(("http://", "https://")):
            return
        self.http[p["requestId"]] = {"t": self.now(), "method": req["method"], "url": req["url"],
                                     "type": p.get("type"), "status": None}

    def http_response(self, p: dict[str, Any]) -> None:
        rec = self.http.get(p["requestId"])
        if rec is not None:
            rec["status"] = p["response"]["status"]
            rec["mime"] = p["response"].get("mimeType")

    def http_failed(self, p: dict[str, Any]) -> None:
        rec = self.http.get(p["requestId"])
        if rec is not None and rec["status"] is None:
            rec["status"] = "failed"
            rec["error"] = p.get("errorText")

    # page console -----------------------------------------------------------------------
    def console_api(self, p: dict[str, Any]) -> None:
        if p.get("type") not in ("error", "warning", "assert"):
            return
        text = " ".join(str(a.get("value", a.get("description", a.get("type"))))
                        for a in p.get("args", []))
        self.console.append({"t": self.now(), "level": p["type"], "text": text[:800]})

    def exception(self, p: dict[str, Any]) -> None:
        d = p.get("exceptionDetails", {})
        text = d.get("exception", {}).get("description") or d.get("text")
        self.console.append({"t": self.now(), "level": "exception", "text": str(text)[:800]})

    def log_entry(self, p: dict[str, Any]) -> None:
        e = p.get("entry", {})
        if e.get("level") in ("error", "warning"):
            self.console.append({"t": self.now(), "level": "log-" + e["level"],
                                 "text": f"{e.get('text', '')} {e.get('url', '')}"[:800]})

    # reports ----------------------------------------------------------------------------
    def api_http(self) -> list[dict[str, Any]]:
        out = []
        for rec in self.http.values():
            path = rec["url"].split("://", 1)[-1].split("/", 1)[-1]
            if re.match(r"(server|printer|machine|access|api)/", path):
                out.append(rec)
        return out

    def summary_rows(self) -> list[dict[str, Any]]:
        rows: dict[str, dict[str, Any]] = {}
        for c in self.calls:
            row = rows.setdefault(c["method"], {"method": c["method"], "n": 0, "ok": 0,
                                                "errors": collections.Counter(), "pending": 0,
                                                "first_t": c["t"], "params": set()})
            row["n"] += 1
            if c["status"] == "ok":
                row["ok"] += 1
            elif c["status"] == "error":
                row["errors"][f"{c.get('code')} {c.get('message')}"] += 1
            elif c["status"] == "pending":
                row["pending"] += 1
            if len(row["params"]) < 4:
                row["params"].add(_short(c.get("params"), 120))
        return sorted(rows.values(), key=lambda r: r["first_t"])

    def markdown(self) -> str:
        lines = ["| # | JSON-RPC method | calls | ok | errors (code message x n) | unanswered"
                 " | params (examples) |",
                 "|---|---|---|---|---|---|---|"]
        for i, r in enumerate(self.summary_rows(), 1):
            errs = "<br>".join(f"`{k}` x {v}" for k, v in r["errors"].items()) or "—"
            params = "<br>".join(f"`{p}`" for p in sorted(r["params"])).replace("|", "\\|")
            lines.append(f"| {i} | `{r['method']}` | {r['n']} | {r['ok']} | {errs} | "
                         f"{r['pending'] or '—'} | {params} |")
        lines += ["", "| HTTP request | calls | status |", "|---|---|---|"]
        agg: dict[tuple[str, str], collections.Counter[str]] = collections.defaultdict(
            collections.Counter)
        for rec in self.api_http():
            path = "/" + rec["url"].split("://", 1)[-1].split("/", 1)[-1]
            path = re.sub(r"\.thumbs/[^?]*", ".thumbs/…", path)
            agg[(rec["method"], path)][str(rec["status"])] += 1
        for (method, path), st in agg.items():
            lines.append(f"| `{method} {path}` | {sum(st.values())} | "
                         + ", ".join(f"{k} x {v}" for k, v in st.items()) + " |")
        static = collections.Counter(str(r["status"]) for r in self.http.values()
                                     if r not in self.api_http())
        lines += ["", f"Static assets / other HTTP: {dict(static)}", "",
                  "| notification received | count | first params (abridged) |", "|---|---|---|"]
        for name, n in self.notifications.most_common():
            sample = self.notification_samples.get(name, "").replace("|", "\\|")
            lines.append(f"| `{name}` | {n} | `{sample[:160]}` |")
        return "\n".join(lines) + "\n"

    def dump(self) -> dict[str, Any]:
        return {"calls": self.calls, "http": list(self.http.values()), "sockets": self.sockets,
                "notifications": dict(self.notifications),
                "notification_samples": self.notification_samples,
                "console": self.console, "steps": self.steps}
