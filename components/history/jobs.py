"""One job of the history: the row as stored and the two shapes Moonraker sends.

Moonraker lists a job with its columns in table order (`job_id` first), but its
notify_history_changed frames carry the job object in attribute order (`end_time`
first, `job_id` last). The frontends do not care; we keep both orders anyway.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

NO_USER = "No User"
IN_PROGRESS = "in_progress"
INTERRUPTED = "interrupted"
SERVER_EXIT = "server_exit"


def format_job_id(number: int) -> str:
    return f"{number:06X}"


def parse_job_id(uid: str) -> int | None:
    try:
        number = int(uid, 16)
    except ValueError:
        return None
    # a job number is a SQLite integer: anything larger names no job
    return number if 0 <= number < 2**63 else None


def clean_metadata(metadata: dict[str, object] | None) -> dict[str, object]:
    """The file's metadata as kept with a job: without the fields that point back at the
    job and without inline thumbnail data."""
    if not metadata:
        return {}
    result = dict(metadata)
    result.pop("print_start_time", None)
    result.pop("job_id", None)
    thumbs = result.get("thumbnails")
    if isinstance(thumbs, list):
        result["thumbnails"] = [
            {k: v for k, v in t.items() if k != "data"} if isinstance(t, dict) else t
            for t in thumbs
        ]
    return result


@dataclass(slots=True)
class Job:
    filename: str
    start_time: float = field(default_factory=time.time)
    user: str = NO_USER
    status: str = IN_PROGRESS
    end_time: float | None = None
    print_duration: float = 0.0
    total_duration: float = 0.0
    filament_used: float = 0.0
    metadata: dict[str, object] = field(default_factory=dict)
    auxiliary_data: list[object] = field(default_factory=list)
    number: int | None = None  # the row id once stored

    @property
    def job_id(self) -> str:
        assert self.number is not None
        return format_job_id(self.number)

    def finish(self, status: str, stats: dict[str, object], now: float | None = None) -> None:
        self.end_time = time.time() if now is None else now
        self.status = status
        self.print_duration = _number(stats.get("print_duration"), self.print_duration)
        elapsed = max(0.0, self.end_time - self.start_time)
        self.total_duration = _number(stats.get("total_duration"), elapsed)
        self.filament_used = _number(stats.get("filament_used"), self.filament_used)

    def as_listed(self, exists: bool) -> dict[str, object]:
        """As server.history.list / get_job return it."""
        return {
            "job_id": self.job_id,
            "user": self.user,
            "filename": self.filename,
            "status": self.status,
            "start_time": self.start_time,
            "end_time": self.end_time,
            "print_duration": self.print_duration,
            "total_duration": self.total_duration,
            "filament_used": self.filament_used,
            "metadata": self.metadata,
            "auxiliary_data": self.auxiliary_data,
            "exists": exists,
        }

    def as_notified(self, exists: bool) -> dict[str, object]:
        """As notify_history_changed carries it."""
        return {
            "end_time": self.end_time,
            "filament_used": self.filament_used,
            "filename": self.filename,
            "metadata": self.metadata,
            "print_duration": self.print_duration,
            "status": self.status,
            "start_time": self.start_time,
            "total_duration": self.total_duration,
            "auxiliary_data": self.auxiliary_data,
            "user": self.user,
            "exists": exists,
            "job_id": self.job_id,
        }


def _number(value: object, default: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return default
    return float(value)
