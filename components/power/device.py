"""One power device: its state ("init", "on", "off", "error"), the lock that keeps one
request at a time, and the rules every type shares (locked while printing, the timer,
polling). A type implements `read()` (ask the device) and `write(on)` (switch it, answer
the state it reports).

`process(action)` is what the API calls, as Moonraker's power devices do: refresh the
state first, then switch only when the state must change; "toggle" turns an "off" device
on and anything else off.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable

from components.power.config import PowerSection
from gateway.errors import BadRequest
from gateway.tasks import Background

log = logging.getLogger(__name__)

ACTIONS = ("on", "off", "toggle", "status")
# an answer from a device taking longer than this is an error, not a hang
REQUEST_TIMEOUT = 10.0


class DeviceError(Exception):
    """The device could not be reached or answered nonsense; the message says which."""


# (device, previous state, changed by us?) after every change of state
StateListener = Callable[["PowerDevice", str, bool], None]


class PowerDevice(ABC):
    def __init__(self, name: str, config: PowerSection) -> None:
        self.name = name
        self.config = config
        self.type = config.type
        self.state = "init"
        self.error: str | None = None
        self.lock = asyncio.Lock()
        self.is_printing: Callable[[], Awaitable[bool]] = _never_printing
        self.listeners: list[StateListener] = []
        self._timer: asyncio.TimerHandle | None = None
        self._poll_task: asyncio.Task[None] | None = None
        self._tasks = Background(f"power {name}", logging.WARNING, log, traceback=False)

    # -- what a type implements -------------------------------------------------------

    @abstractmethod
    async def read(self) -> str:
        """Ask the device: "on" or "off"; DeviceError when it cannot say."""

    @abstractmethod
    async def write(self, on: bool) -> str:
        """Switch the device; answer the state it reports (or the one asked for)."""

    async def start(self) -> None:  # noqa: B027 (most types have nothing to open)
        """Open what the type needs (a GPIO line, a subscription)."""

    async def close(self) -> None:  # noqa: B027
        """Release it."""

    # -- the shared rules -------------------------------------------------------------

    def info(self) -> dict[str, object]:
        return {"device": self.name, "status": self.state,
                "locked_while_printing": self.config.locked_while_printing,
                "type": self.type}

    async def initialize(self) -> None:
        """Read the state; then apply initial_state if configured."""
        async with self.lock:
            await self._refresh()
            initial = self.config.initial_state
            if initial is not None and self.state in ("on", "off") and initial != self.state:
                log.info("power %s: initial state %s", self.name, initial)
                await self._switch(initial == "on")
        poll = getattr(self.config, "poll_interval", None)
        if poll is not None:
            self._poll_task = asyncio.get_running_loop().create_task(self._poll(poll))

    async def process(self, action: str, force: bool = False) -> str:
        if action not in ACTIONS:
            raise BadRequest(f"Invalid requested action '{action}': expected on, off or "
                             "toggle")
        if self.state == "init" and self.lock.locked():
            return self.state
        async with self.lock:
            await self._refresh()
            if action == "status":
                return self.state
            wanted = action
            if action == "toggle":
                wanted = "on" if self.state == "off" else "off"
            if wanted == self.state:
                return self.state
            if not force and self.config.locked_while_printing and await self.is_printing():
                # Moonraker answers this with 400, and its clients show the message
                raise BadRequest(f"Unable to change power for {self.name} while printing")
            await self._switch(wanted == "on")
            return self.state

    async def _refresh(self) -> None:
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT):
                state = await self.read()
        except (DeviceError, TimeoutError, OSError) as exc:
            self._set_error(exc)
            return
        self._set_state(state, by_us=False)

    async def _switch(self, on: bool) -> None:
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT):
                state = await self.write(on)
        except (DeviceError, TimeoutError, OSError) as exc:
            self._set_error(exc)
            raise DeviceError(f"Error switching power device {self.name}: {self.error}") from None
        self._set_state(state, by_us=True)
        self._arm_timer()

    def _set_error(self, exc: BaseException) -> None:
        message = str(exc) or type(exc).__name__
        if isinstance(exc, TimeoutError):
            message = f"no answer within {REQUEST_TIMEOUT:g} s"
        if self.error != message:
            log.warning("power %s: %s", self.name, message)
        self.error = message
        self._set_state("error", by_us=False)

    def _set_state(self, state: str, by_us: bool) -> None:
        if state != "error":
            self.error = None
        previous, self.state = self.state, state
        if previous == state:
            return
        for listener in list(self.listeners):
            listener(self, previous, by_us)

    def external_state(self, state: str) -> None:
        """A state the device announced by itself (MQTT, the printer)."""
        self._set_state(state, by_us=False)

    # -- timer and polling ------------------------------------------------------------

    def _arm_timer(self) -> None:
        timer: float | None = getattr(self.config, "timer", None)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if timer is not None and self.state == "on":
            self._timer = asyncio.get_running_loop().call_later(timer, self._timer_expired)

    def _timer_expired(self) -> None:
        self._timer = None
        self.spawn(self.process("off", force=True))

    async def _poll(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            if not self.lock.locked():
                with contextlib.suppress(DeviceError, BadRequest):
                    await self.process("status")

    def spawn(self, coro: Awaitable[object]) -> None:
        self._tasks.spawn(coro)

    async def shutdown(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if self._poll_task is not None:
            self._poll_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._poll_task
        await self._tasks.cancel()
        await self.close()


async def _never_printing() -> bool:
    return False
