"""Frames kept in memory: for tests, and for a preview through `led.frame`."""

from __future__ import annotations

import time
from collections import deque

from components.led.colors import Frame, apply_brightness


class VirtualBackend:
    name = "virtual"

    def __init__(self, brightness: float, history: int = 256) -> None:
        self.brightness = brightness
        self.frame: Frame = []
        self.frames_shown = 0
        # (monotonic time, frame) for each change of frame, newest last
        self.history: deque[tuple[float, Frame]] = deque(maxlen=history)

    async def start(self) -> None:
        return None

    def show(self, frame: Frame) -> None:
        self.frames_shown += 1
        if frame != self.frame:
            self.frame = list(frame)
            self.history.append((time.monotonic(), self.frame))

    @property
    def output(self) -> Frame:
        """What a real strip would emit: the frame with brightness applied."""
        return apply_brightness(self.frame, self.brightness)

    async def stop(self) -> None:
        return None
