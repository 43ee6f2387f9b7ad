"""The host link: Marlin serial protocol engine, serial I/O and the virtual printer."""

from .config import SerialConfig
from .errors import GCodeError, JobFailed, LinkBusy, LinkError, LinkNotReady
from .events import LinkState, StateChanged
from .firmware import FirmwareDescription
from .job import JobState, StreamJob
from .link import EMERGENCY_COMMANDS, HostLink
from .protocol import LinkStats

__all__ = [
    "EMERGENCY_COMMANDS",
    "FirmwareDescription",
    "GCodeError",
    "HostLink",
    "JobFailed",
    "JobState",
    "LinkBusy",
    "LinkError",
    "LinkNotReady",
    "LinkState",
    "LinkStats",
    "SerialConfig",
    "StateChanged",
    "StreamJob",
]
