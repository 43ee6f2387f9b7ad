"""[job_queue] (Moonraker's options) and [queue] (ours), typed; see docs/queue.md."""

from __future__ import annotations

from dataclasses import dataclass

import msgspec


class JobQueueSection(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    # load the next job when the printer reports ready after start-up
    load_on_startup: bool = False
    # after a completed print, go on to the next job (else the queue pauses once a
    # print is loaded, as Moonraker)
    automatic_transition: bool = False
    # seconds between a completed print and the next step
    job_transition_delay: float = 0.01
    # G-code run just before the next print starts (not on a manual start)
    job_transition_gcode: str = ""

    def __post_init__(self) -> None:
        if not self.job_transition_delay > 0.0:
            raise ValueError(
                "option 'job_transition_delay': expected a number of seconds above 0.0, "
                f"got {self.job_transition_delay}"
            )


class QueueSection(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    # G-code run after a completed print, before the gate (e.g. a bed sweeper)
    clear_bed_gcode: str = ""
    # hold the next print until a user confirms the bed is clear
    require_bed_clear: bool = False
    # the printer profile name sets' `profiles` are matched against (Continuous Print)
    profile: str = ""


@dataclass(frozen=True, slots=True)
class Policy:
    """Everything the state machine needs from the config."""

    load_on_startup: bool = False
    automatic_transition: bool = False
    job_transition_delay: float = 0.01
    job_transition_gcode: str = ""
    clear_bed_gcode: str = ""
    require_bed_clear: bool = False
    profile: str = ""
    # seconds after the printer is ready before load_on_startup loads (as Moonraker)
    startup_delay: float = 1.0

    @classmethod
    def from_sections(cls, jq: JobQueueSection, q: QueueSection) -> Policy:
        return cls(
            load_on_startup=jq.load_on_startup,
            automatic_transition=jq.automatic_transition,
            job_transition_delay=jq.job_transition_delay,
            job_transition_gcode=jq.job_transition_gcode.strip(),
            clear_bed_gcode=q.clear_bed_gcode.strip(),
            require_bed_clear=q.require_bed_clear,
            profile=q.profile,
        )
