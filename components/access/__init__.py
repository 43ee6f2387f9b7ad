"""Access control: API key, one-shot tokens, users and logins, trusted clients, CORS.

See docs/access.md (how it behaves) and docs/THREAT_MODEL.md (why)."""

from components.access.component import COMPONENT, AccessComponent, load_component

__all__ = ["COMPONENT", "AccessComponent", "load_component"]
