"""The LED component: a strip whose colours follow the printer.

On every frame tick (fps while animating, static_interval otherwise, at once on a printer
event or a command) it reads the printer's status through PrinterApi.query_status,
resolves what to show (controller + precedence table), renders the frame (effects) and
hands it to the backend.
It publishes the strip as Klipper's `neopixel <name>` object and accepts SET_LED through
the printer component when one is present; without one the state is "disconnected" and
everything else works.

Events consumed: PrinterStateChanged, JobStarted/Paused/Resumed/Finished.
Notifications sent: notify_led_update([state]) when the LED state changes,
notify_led_os_config_test([result]) while test_os_config runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from components.led import neopixel
from components.led.backends import Backend, make_backend
from components.led.colors import BLACK, Frame
from components.led.commands import check_command, test_color
from components.led.config import LedSection
from components.led.controller import LedController, Scene
from components.led.oscheck import os_checks
from components.led.precedence import Layer, resolve
from components.led.printer_view import STATUS_QUERY, PrinterTracker, PrinterView
from components.printer.api import (
    JobFinished,
    JobPaused,
    JobResumed,
    JobStarted,
    PrinterApi,
    PrinterStateChanged,
)
from gateway.component import BaseComponent
from gateway.errors import BadRequest, ServerError

if TYPE_CHECKING:
    from gateway.api import ServerApi

log = logging.getLogger(__name__)

# the neopixel object's color_data is pushed at most this often while animating
OBJECT_INTERVAL = 0.5


def _local_time() -> datetime.time:
    return datetime.datetime.now().time()


class LedComponent(BaseComponent):
    moonraker_names = ("led",)

    def __init__(self, server: ServerApi, *, clock: Callable[[], float] = time.monotonic,
                 local_time: Callable[[], datetime.time] = _local_time,
                 run_loop: bool = True) -> None:
        self.server = server
        self.config = server.config.section("led", LedSection)
        # injectable: monotonic seconds for effects and timers, local time for active hours
        self.clock = clock
        self.local_time = local_time
        self.run_loop = run_loop
        self.controller = LedController(self.config)
        self.tracker = PrinterTracker(
            complete_time=self.config.complete_time,
            cancelled_time=self.config.cancelled_time,
            error_time=self.config.error_time,
            heating_tolerance=self.config.heating_tolerance,
        )
        self.backend: Backend = make_backend(self.config, self.printer)
        self.view = PrinterView(frozenset({Layer.DISCONNECTED, Layer.IDLE}))
        self.scene = Scene(Layer.IDLE, self.config.looks()[Layer.IDLE])
        self.frame: Frame = [BLACK] * self.config.led_count
        self._pending_set_led: Frame | None = None
        self._attached: PrinterApi | None = None
        self._object_sent_at = -float("inf")
        self._object_dirty = False
        self._last_state: dict[str, object] | None = None
        self._query_failing = False
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._os_test: asyncio.Task[None] | None = None
        self._unsubscribe: list[Callable[[], None]] = []
        self._register()

    # -- wiring -------------------------------------------------------------------------

    def _register(self) -> None:
        from components.led.endpoints import register_api

        register_api(self.server, self)
        events = self.server.events
        self._unsubscribe += [
            events.subscribe(PrinterStateChanged, self._on_event),
            events.subscribe(JobStarted, self._on_event),
            events.subscribe(JobPaused, self._on_event),
            events.subscribe(JobResumed, self._on_event),
            events.subscribe(JobFinished, self._on_job_finished),
        ]

    def _on_event(self, event: object) -> None:
        self.wake()

    def _on_job_finished(self, event: JobFinished) -> None:
        self.tracker.job_finished(event.status, self.clock())
        self.wake()

    def wake(self) -> None:
        """Render the next frame now rather than at the next tick."""
        self._wake.set()

    def printer(self) -> PrinterApi | None:
        return self.server.find(PrinterApi)

    def _attach(self, printer: PrinterApi | None) -> None:
        """Publish the neopixel object and SET_LED once a printer component is there."""
        if printer is None or printer is self._attached:
            return
        self._attached = printer
        printer.add_object(neopixel.object_name(self.config.name),
                           neopixel.object_fields(self.frame))
        printer.register_command("SET_LED", self._set_led, "Set the color of an LED")
        # the frontends find LED controls in configfile (a [neopixel NAME] section)
        printer.add_config_section(
            neopixel.object_name(self.config.name),
            neopixel.config_strings(self.config.led_count, self.config.color_order),
            neopixel.config_settings(self.config.led_count, self.config.color_order),
        )
        self._object_sent_at = self.clock()

    async def start(self) -> None:
        await self.backend.start()
        self.refresh()
        if self.run_loop:
            self._task = asyncio.create_task(self._loop(), name="led")

    async def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        for task in (self._task, self._os_test):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self.backend.stop()

    # -- the frame tick -----------------------------------------------------------------

    def _observe(self, now: float) -> PrinterView:
        printer = self.printer()
        if printer is None:
            return self.tracker.observe("disconnected", {}, now)
        state = printer.state
        status: Mapping[str, Mapping[str, object]] = {}
        if state == "ready":
            try:
                status = printer.query_status(STATUS_QUERY)
            except Exception as exc:
                # shown as disconnected; said once, not on every frame
                if not self._query_failing:
                    log.warning("led: printer status unavailable: %s", exc)
                self._query_failing = True
                state = "disconnected"
            else:
                self._query_failing = False
        webhooks = status.get("webhooks", {}).get("state")
        return self.tracker.observe(str(webhooks or state), status, now)

    def refresh(self, *, publish: bool = False) -> Frame:
        """One tick: read the printer, pick the scene, render and show the frame.

        `publish` pushes the neopixel object at once (after SET_LED and commands), rather
        than at most every OBJECT_INTERVAL while animating."""
        now = self.clock()
        printer = self.printer()
        self._attach(printer)
        self.view = self._observe(now)
        previous = self.scene.layer
        self.scene = self.controller.scene(self.view, now, self.local_time())
        frame = self.scene.frame(self.config.led_count, now)
        layer_changed = self.scene.layer is not previous
        if frame != self.frame or layer_changed:
            self._object_dirty = True
        self.frame = frame
        self.backend.show(frame)
        self._publish_object(now, force=layer_changed or publish)
        self._notify_if_changed()
        return frame

    def _publish_object(self, now: float, force: bool) -> None:
        printer = self._attached
        if printer is None or not self._object_dirty:
            return
        if not force and now - self._object_sent_at < OBJECT_INTERVAL:
            return
        name, fields = neopixel.object_name(self.config.name), neopixel.object_fields(self.frame)
        try:
            printer.update_object(name, fields)
        except KeyError:
            # the printer rebuilt its objects (a reconnect): publish ours again
            printer.add_object(name, fields)
        self._object_sent_at = now
        self._object_dirty = False

    def _notify_if_changed(self) -> None:
        state = self.state()
        if state != self._last_state:
            self._last_state = state
            self.server.send_notification("notify_led_update", [state])

    def _interval(self) -> float:
        interval = 1.0 / self.config.fps if self.scene.animated else self.config.static_interval
        deadline = self.controller.torch_deadline()
        if deadline is not None:
            interval = min(interval, max(0.0, deadline - self.clock()) + 0.001)
        return interval

    async def _loop(self) -> None:
        failing = False
        while True:
            try:
                self.refresh()
                failing = False
            except Exception:
                if not failing:  # once per run of failures, not at every frame
                    log.exception("led: frame tick failed")
                failing = True
            # asyncio.timeout, not wait_for: on 3.11 wait_for may swallow a cancellation
            # that arrives as the event is set, and stop() would wait forever
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._interval()):
                    await self._wake.wait()
            self._wake.clear()

    # -- state and commands -------------------------------------------------------------

    def seed_state(self) -> dict[str, bool]:
        """The OctoPrint plugin's answer: {"lights_on", "torch_on"}."""
        return {"lights_on": self.controller.lights_on,
                "torch_on": self.controller.torch_active(self.clock())}

    def state(self) -> dict[str, object]:
        return {
            **self.seed_state(),
            "state": self.scene.layer.value,
            "printer_state": resolve(self.view.layers).value,
            "active_hours": self.controller.in_active_hours(self.local_time()),
            "name": self.config.name,
            "backend": self.backend.name,
            "led_count": self.config.led_count,
        }

    async def command(self, args: Mapping[str, object]) -> dict[str, bool]:
        command = check_command(args)
        now = self.clock()
        if command == "lights_on":
            self.controller.set_lights(True)
        elif command == "lights_off":
            self.controller.set_lights(False)
        elif command == "torch_on":
            self.controller.torch_on(now)
        elif command == "torch_off":
            if self.controller.torch_mode != "toggle":
                raise BadRequest("torch_off is only available when torch_mode is toggle "
                                 f"(it is {self.controller.torch_mode})")
            self.controller.torch_off()
        elif command == "test_led":
            pixel = test_color(args["color"])
            self.controller.set_manual([pixel] * self.config.led_count,
                                       resolve(self.view.layers))
        elif command == "test_os_config":
            self.start_os_test()
        self.refresh(publish=True)
        self.wake()
        return self.seed_state()

    def start_os_test(self) -> None:
        if self._os_test is None or self._os_test.done():
            self._os_test = asyncio.create_task(self._run_os_test(), name="led-os-test")

    async def _run_os_test(self) -> None:
        def report(test: str, status: str) -> None:
            self.server.send_notification("notify_led_os_config_test",
                                          [{"test": test, "status": status}])

        for name, check in os_checks(self.config.gpio_pin).items():
            report(name, "in_progress")
            passed = await asyncio.to_thread(check)
            report(name, "passed" if passed else "failed")
        report("complete", "complete")

    def _set_led(self, command: str, params: dict[str, str]) -> None:
        try:
            parsed = neopixel.parse_set_led(params, self.config.name, self.config.led_count)
        except neopixel.SetLedError as exc:
            raise ServerError(str(exc), 400) from None
        base = self._pending_set_led or self.controller.manual or self.frame
        frame = neopixel.apply_set_led(base, parsed)
        if not parsed.transmit:
            self._pending_set_led = frame
            return
        self._pending_set_led = None
        self.controller.set_manual(frame, resolve(self.view.layers))
        self.refresh(publish=True)
