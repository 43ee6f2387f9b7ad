"""Which `Host` names may be trusted by address (issue 17.2, DNS rebinding).

A web page on `evil.example` can make its name resolve to the printer's address; the
browser then sends the page's requests to the printer with `Host: evil.example` and,
as far as the browser knows, same-origin. Address trust is therefore granted only to
requests naming the printer the way its own users do: an IP literal, `localhost`, this
host's own names (`hostname`, `hostname.local`) or a name listed in `[server]
hostnames`. Requests with credentials are not affected (a rebinding page has none).
"""

from __future__ import annotations

import socket

from components.access.trust import parse_ip

VERDICT_CACHE_SIZE = 256


def host_name(header: str) -> str:
    """The name in a Host header: port, brackets and a trailing dot removed, lower case."""
    text = header.strip()
    if text.startswith("["):
        end = text.find("]")
        name = text[1:end] if end > 0 else text[1:]
    elif text.count(":") == 1:
        name = text.split(":", 1)[0]
    else:
        name = text  # a bare name, or an unbracketed IPv6 address
    return name.lower().rstrip(".")


def own_names() -> set[str]:
    """This host's names: its hostname (and first label) with and without `.local`."""
    names: set[str] = set()
    full = socket.gethostname().lower().rstrip(".")
    for name in {full, full.split(".", 1)[0]}:
        if name:
            names.update({name, f"{name}.local"})
    return names


class HostNames:
    def __init__(self, configured: list[str]) -> None:
        self.names = own_names() | {host_name(n) for n in configured if n.strip()}
        self._verdicts: dict[str, bool] = {}

    def allowed(self, header: str | None) -> bool:
        """May a request with this Host header be trusted by its address? (No header:
        not a browser, so not a rebinding page.)"""
        if header is None:
            return True
        verdict = self._verdicts.get(header)
        if verdict is None:
            name = host_name(header)
            verdict = name == "localhost" or name in self.names or parse_ip(name) is not None
            if len(self._verdicts) >= VERDICT_CACHE_SIZE:
                self._verdicts.clear()
            self._verdicts[header] = verdict
        return verdict

    @staticmethod
    def refusal(header: str) -> str:
        return (f"Forbidden: Host '{host_name(header)[:253]}' is not a name of this server; "
                "a request trusted by its address must name it by IP address, localhost, "
                "its host name or a name in [server] hostnames (add it there if it is "
                "this printer's)")
