"""[notifier NAME]: push notifications on print events through Apprise (extra
`notifier`: pip install 'skysail[notifier]')."""

from __future__ import annotations

import contextlib
import importlib.util
import warnings
from typing import TYPE_CHECKING

from components.printer.api import PrinterApi
from gateway.component import ComponentSpec
from gateway.config import ConfigError

if TYPE_CHECKING:
    from components.notifier.component import NotifierComponent
    from gateway.api import ServerApi

__all__ = ["COMPONENT", "load_component"]


def load_component(server: ServerApi) -> NotifierComponent:
    if importlib.util.find_spec("apprise") is None:
        raise ConfigError("[notifier] needs the apprise package: "
                          "pip install 'skysail[notifier]'")
    _import_apprise()
    from components.notifier.component import NotifierComponent

    return NotifierComponent(server)


def _import_apprise() -> None:
    """Apprise's e-mail plugin imports the deprecated `imghdr` (through PGPy) when a URL
    is first resolved, on a worker thread; its DeprecationWarning is silenced here once,
    on the main thread (warning filters are not thread-safe), as jsonrpc_lib does."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import apprise  # noqa: F401

        with contextlib.suppress(ImportError):
            import imghdr  # noqa: F401


COMPONENT = ComponentSpec(load_component, wants=(PrinterApi,))
