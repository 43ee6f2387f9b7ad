"""The Spoolman component (`[spoolman]`)."""

from components.spoolman.component import Spoolman, load_component

__all__ = ["Spoolman", "load_component"]
