"""Cross-origin policy: which web origins may call the API from a browser.

`cors_domains` entries are origins (`http://host[:port]`) where `*` matches any run of
host characters, but never in the top-level domain (`http://printer.*` is refused). A
listed origin gets `Access-Control-Allow-Origin` and `Access-Control-Allow-Credentials`;
an origin whose host is a trusted IP address gets `Access-Control-Allow-Origin` only (as
Moonraker allows it); any other origin gets no CORS headers at all, so the browser keeps
the answer from the page.

A lone `*` allows every origin, as Moonraker accepts it: every web page may then call the
API from a browser (with that browser's address trust), which is why it gets
`Allow-Origin` without `Allow-Credentials` and a warning in the log (docs/access.md).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

ALLOW_METHODS = "GET, POST, PUT, DELETE, OPTIONS"
ALLOW_HEADERS = (
    "Origin, Accept, Content-Type, X-Requested-With, X-CRSF-Token, Authorization, "
    "X-Access-Token, X-Api-Key"
)
PREFLIGHT_MAX_AGE = "600"
_ORIGIN = re.compile(r"(?P<scheme>https?)://(?P<host>[^/:?#]+|\[[0-9a-fA-F:.]+\])(:(?P<port>[0-9*]+))?")


def _compile(pattern: str) -> re.Pattern[str]:
    parts = [re.escape(p) for p in pattern.lower().split("*")]
    return re.compile("[a-z0-9.-]*".join(parts))


ANY_ORIGIN = "*"


class CorsPolicy:
    def __init__(self, domains: list[str]) -> None:
        self.patterns: list[re.Pattern[str]] = []
        self.warnings: list[str] = []
        # `*`: every origin is allowed (Moonraker's wildcard); said in the log, not hidden
        self.any_origin = False
        for domain in domains:
            self._add(domain.strip())

    def _add(self, domain: str) -> None:
        if domain == ANY_ORIGIN:
            self.any_origin = True
            return
        if domain.endswith("/"):
            self.warnings.append(
                f"[authorization]: Invalid domain '{domain}' in option 'cors_domains'. "
                "Domains cannot contain a trailing slash."
            )
            return
        match = _ORIGIN.fullmatch(domain)
        if match is None:
            self.warnings.append(
                f"[authorization]: Invalid domain '{domain}' in option 'cors_domains' "
                "(expected http[s]://host[:port])"
            )
            return
        top_level = match.group("host").rsplit(".", 1)[-1]
        if "*" in top_level:
            self.warnings.append(
                f"[authorization]: Unsafe domain '{domain}' in option 'cors_domains'. "
                "Wildcards are not permitted in the top level domain."
            )
            return
        self.patterns.append(_compile(domain))

    def listed(self, origin: str) -> bool:
        lowered = origin.lower()
        return any(p.fullmatch(lowered) for p in self.patterns)

    def allows(self, origin: str, is_trusted_ip: Callable[[str], bool]) -> bool:
        return (self.any_origin or self.listed(origin)
                or self._trusted_host(origin, is_trusted_ip))

    @staticmethod
    def _trusted_host(origin: str, is_trusted_ip: Callable[[str], bool]) -> bool:
        match = _ORIGIN.fullmatch(origin)
        if match is None:
            return False
        return is_trusted_ip(match.group("host").strip("[]"))

    def response_headers(
        self, request_headers: Mapping[str, str], is_trusted_ip: Callable[[str], bool]
    ) -> dict[str, str]:
        origin = request_headers.get("Origin")
        if not origin:
            return {}
        headers: dict[str, str] = {"Vary": "Origin"}
        if self.listed(origin):
            headers["Access-Control-Allow-Origin"] = origin
            headers["Access-Control-Allow-Credentials"] = "true"
        elif self.any_origin or self._trusted_host(origin, is_trusted_ip):
            # no credentials: cookies and HTTP auth stay out of it, as with Moonraker
            headers["Access-Control-Allow-Origin"] = origin
        else:
            return headers
        if "Access-Control-Request-Method" in request_headers:
            headers["Access-Control-Allow-Methods"] = ALLOW_METHODS
            headers["Access-Control-Allow-Headers"] = ALLOW_HEADERS
            headers["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
            if request_headers.get("Access-Control-Request-Private-Network") == "true":
                headers["Access-Control-Allow-Private-Network"] = "true"
        return headers


def same_origin(origin: str, host: str) -> bool:
    """Does the page's `origin` name the host (and port) it is talking to?"""
    try:
        netloc = urlsplit(origin).netloc
    except ValueError:
        return False
    return bool(netloc) and netloc.lower() == host.lower()
