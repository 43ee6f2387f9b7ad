"""Motion planner: a ring of blocks executed in (scaled) real time with trapezoid profiles.

Each block's timing is fixed when it starts: it enters at the speed the previous block left
with, and leaves at the junction speed towards the next block only if that block was
already buffered at that moment; otherwise it decelerates to a stop (the planner had nothing
to look ahead to).  A block added to an empty planner is held back for
``first_move_delay`` unless two more blocks arrive first, like BLOCK_DELAY_FOR_1ST_MOVE.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

from .stats import VirtualPrinterStats

AXES = 4  # X Y Z E


@dataclass
class Block:
    start: tuple[float, float, float, float]
    end: tuple[float, float, float, float]
    length: float  # mm along the path (XYZ, or E for extruder-only moves)
    unit: tuple[float, float, float]  # XYZ direction (zero for E-only)
    v_nominal: float  # mm/s
    accel: float  # mm/s^2
    appended: float  # wall time
    started: float | None = None
    finished: float = 0.0  # wall time
    v_exit: float = 0.0
    duration: float = 0.0  # simulated seconds


def trapezoid_time(d: float, v0: float, v1: float, vmax: float, a: float) -> float:
    """Time to cover ``d`` entering at ``v0``, leaving at ``v1``, cruising at most ``vmax``."""
    if d <= 0:
        return 0.0
    if a <= 0:
        return d / max(vmax, 1e-9)
    da = (vmax * vmax - v0 * v0) / (2 * a)
    dd = (vmax * vmax - v1 * v1) / (2 * a)
    if da + dd <= d:
        return (vmax - v0) / a + (vmax - v1) / a + (d - da - dd) / vmax
    vp = math.sqrt(max(0.0, (2 * a * d + v0 * v0 + v1 * v1) / 2))
    vp = max(vp, v0, v1)
    return (vp - v0) / a + (vp - v1) / a


class Planner:
    def __init__(
        self,
        *,
        block_buffer_size: int,
        time_scale: float,
        first_move_delay: float,
        junction_deviation: float,
        starvation_threshold: float,
        stats: VirtualPrinterStats,
    ) -> None:
        self.capacity = max(1, block_buffer_size - 1)  # the ring keeps one slot free
        self.block_buffer_size = block_buffer_size
        self.scale = time_scale
        self.first_move_delay = first_move_delay
        self.jd = junction_deviation
        self.starvation_threshold = starvation_threshold
        self.stats = stats
        self.blocks: deque[Block] = deque()
        self._prev_end: float | None = None  # wall time the last finished block ended
        self._prev_exit = 0.0
        self._prev_unit: tuple[float, float, float] = (0.0, 0.0, 0.0)
        self.excused = True  # the next idle gap was the host's deliberate choice

    # ---------------------------------------------------------------- queries
    def moves_planned(self) -> int:
        return len(self.blocks)

    def moves_free(self) -> int:
        return self.capacity - len(self.blocks)

    def full(self) -> bool:
        return len(self.blocks) >= self.capacity

    def idle(self) -> bool:
        return not self.blocks

    def next_event(self) -> float | None:
        """Wall time at which the planner state next changes by itself."""
        if not self.blocks:
            return None
        head = self.blocks[0]
        if head.started is not None:
            return head.finished
        return self._start_candidate(head)

    # ---------------------------------------------------------------- execution
    def _start_candidate(self, head: Block) -> float:
        if self._prev_end is not None and head.appended < self._prev_end:
            return self._prev_end  # continues straight from the previous block
        t = head.appended + self.first_move_delay / self.scale
        if len(self.blocks) >= 3:
            t = min(t, max(head.appended, self.blocks[2].appended))
        return t

    def _junction_speed(self, a: Block, b: Block) -> float:
        if a.unit == (0.0, 0.0, 0.0) or b.unit == (0.0, 0.0, 0.0):
            return 0.0
        cos_theta = -(a.unit[0] * b.unit[0] + a.unit[1] * b.unit[1] + a.unit[2] * b.unit[2])
        limit = min(a.v_nominal, b.v_nominal)
        if cos_theta > 0.999999:
            return 0.0
        if cos_theta < -0.999999:
            return limit
        sin_half = math.sqrt(max(0.0, 0.5 * (1.0 - cos_theta)))
        v = math.sqrt(b.accel * self.jd * sin_half / max(1e-9, 1.0 - sin_half))
        return min(v, limit)

    def update(self, now: float) -> None:
        """Start and retire blocks whose times have come."""
        blocks = self.blocks
        while blocks:
            head = blocks[0]
            if head.started is None:
                t0 = self._start_candidate(head)
                if t0 > now:
                    return
                chained = self._prev_end is not None and t0 == self._prev_end
                v0 = self._prev_exit if chained else 0.0
                v0 = min(v0, head.v_nominal)
                nxt = blocks[1] if len(blocks) > 1 and blocks[1].appended <= t0 else None
                v1 = self._junction_speed(head, nxt) if nxt is not None else 0.0
                v1 = min(v1, math.sqrt(v0 * v0 + 2 * head.accel * head.length))
                head.started = t0
                head.v_exit = v1
                head.duration = trapezoid_time(head.length, v0, v1, head.v_nominal, head.accel)
                head.finished = t0 + head.duration / self.scale
            if head.finished > now:
                return
            blocks.popleft()
            self.stats.motion_time += head.duration
            self._prev_end = head.finished
            self._prev_exit = head.v_exit
            self._prev_unit = head.unit

    def append(self, block: Block, now: float) -> None:
        """Add a block; the caller has made sure there is room."""
        self.update(now)
        if not self.blocks and self._prev_end is not None and not self.excused:
            gap = (now - self._prev_end) * self.scale
            if 0 < gap <= self.starvation_threshold:
                self.stats.planner_starvations += 1
                self.stats.starvation_time += gap
        self.excused = False
        self.blocks.append(block)

    def excuse(self) -> None:
        """The host asked for the coming pause (M400, G4, M109, ...): not starvation."""
        self.excused = True

    def position_at(self, now: float) -> tuple[float, float, float, float] | None:
        """Where the tool is now, if a block is executing (linear interpolation)."""
        self.update(now)
        if not self.blocks or self.blocks[0].started is None:
            return None
        b = self.blocks[0]
        assert b.started is not None
        span = b.finished - b.started
        f = 1.0 if span <= 0 else min(1.0, max(0.0, (now - b.started) / span))
        return tuple(s + (e - s) * f for s, e in zip(b.start, b.end, strict=True))  # type: ignore[return-value]

    def quick_stop(self, now: float) -> tuple[float, float, float, float] | None:
        """Discard every block (M410); returns where the tool stopped, if it was moving."""
        pos = self.position_at(now)
        if self.blocks:
            self.blocks.clear()
            self._prev_end = now
            self._prev_exit = 0.0
        self.excused = True
        return pos

    def clear(self) -> None:
        self.blocks.clear()
        self._prev_end = None
        self._prev_exit = 0.0
        self.excused = True
