"""The update manager component (`[update_manager]`)."""

from components.update_manager.component import UpdateManager, load_component

__all__ = ["UpdateManager", "load_component"]
