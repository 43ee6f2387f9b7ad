"""The power component: `[power NAME]` devices, Moonraker's machine.device_power.* API and
`notify_power_changed`, and what devices do around the printer:

* locked_while_printing: no switching while a print runs (or is paused);
* on_when_job_queued: an "off" device is switched on when the job queue gets a job;
* off_when_shutdown: switched off `off_when_shutdown_delay` s after the printer shuts
  down (an emergency stop, a thermal runaway), if it is still shut down then;
* restart_klipper_when_powered: after power-on (and `restart_delay` s), the printer's
  serial link is reconnected, unless a print runs;
* bound_services: started/stopped with the device through machine.services.*.

A change made elsewhere (a device announcing its state over MQTT, a polled device) only
notifies, unless restrict_action_processing is False. Requests to a device never wait on
another device: each has its own lock and every call has a timeout.

Events consumed: PrinterStateChanged, JobQueueChanged, MqttConnected.
Events emitted: PowerChanged (api.py). Notifications sent: notify_power_changed([info]).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from components.mqtt.api import MqttApi, MqttConnected
from components.power.api import PowerChanged
from components.power.config import SECTIONS, PowerSection
from components.power.device import DeviceError, PowerDevice
from components.printer.api import PrinterApi, PrinterStateChanged
from components.queue.api import JobQueueChanged
from gateway.component import BaseComponent
from gateway.config import ConfigError
from gateway.errors import ServerError
from gateway.request import Caller, Transport
from gateway.tasks import Background

if TYPE_CHECKING:
    from gateway.api import ServerApi

log = logging.getLogger(__name__)

# the printer states in which a locked device must not change
PRINTING = ("printing", "paused")
_INTERNAL = Caller(ip="internal", transport=Transport.INTERNAL)


class PowerComponent(BaseComponent):
    moonraker_names = ("power",)

    def __init__(self, server: ServerApi) -> None:
        self.server = server
        self.devices: dict[str, PowerDevice] = {}
        for name in server.config.prefixed_sections("power"):
            device = self._make_device(name)
            device.is_printing = self.is_printing
            device.listeners.append(self._on_change)
            self.devices[name] = device
        self._tasks = Background("power", logging.WARNING, log, traceback=False)
        self._shutdown_timer: asyncio.TimerHandle | None = None
        events = server.events
        self._unsubscribe: list[Callable[[], None]] = [
            events.subscribe(PrinterStateChanged, self._on_printer_state),
            events.subscribe(JobQueueChanged, self._on_queue_changed),
            events.subscribe(MqttConnected, self._on_mqtt_connected),
        ]
        from components.power.endpoints import register

        register(server, self)

    def _make_device(self, name: str) -> PowerDevice:
        section = f"power {name}"
        kind = self.server.config.raw(section).get("type", "").strip()
        struct = SECTIONS.get(kind)
        if struct is None:
            raise ConfigError(f"[{section}] option 'type': expected one of "
                              f"{', '.join(SECTIONS)}, got {kind!r}")
        config = self.server.config.section(section, struct)
        try:
            return _build(name, config, self)
        except ValueError as exc:
            raise ConfigError(f"[{section}] {exc}") from None

    # -- life cycle ---------------------------------------------------------------------

    async def start(self) -> None:
        for device in self.devices.values():
            await device.start()
            self._spawn(self._initialize(device))

    async def _initialize(self, device: PowerDevice) -> None:
        try:
            await device.initialize()
        except DeviceError as exc:
            log.warning("%s", exc)
        if device.config.initial_state is not None and device.state in ("on", "off"):
            await self._bound_services(device)

    async def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        if self._shutdown_timer is not None:
            self._shutdown_timer.cancel()
        await self._tasks.cancel()
        for device in self.devices.values():
            await device.shutdown()

    # -- the printer --------------------------------------------------------------------

    def printer(self) -> PrinterApi | None:
        return self.server.find(PrinterApi)

    async def is_printing(self) -> bool:
        printer = self.printer()
        if printer is None or printer.state != "ready":
            return False
        status = printer.query_status({"print_stats": ["state"]})
        return status.get("print_stats", {}).get("state") in PRINTING

    def _on_printer_state(self, event: PrinterStateChanged) -> None:
        state = event.state
        if state in ("ready", "disconnected"):
            # the printer's own supply is known only while the printer is connected
            for device in self.devices.values():
                if device.type == "marlin":
                    self._spawn(self._refresh_marlin(device))
        if state != "shutdown":
            if self._shutdown_timer is not None:
                self._shutdown_timer.cancel()
                self._shutdown_timer = None
            return
        devices = [d for d in self.devices.values() if d.config.off_when_shutdown]
        if not devices:
            return
        delay = max(d.config.off_when_shutdown_delay for d in devices)
        loop = asyncio.get_running_loop()
        self._shutdown_timer = loop.call_later(delay, self._off_after_shutdown)

    async def _refresh_marlin(self, device: PowerDevice) -> None:
        """Read the supply's state once the printer is ready; a first answer lost to the
        link's own start-up commands is asked again (three times, a second apart)."""
        for _ in range(3):
            with contextlib.suppress(DeviceError):
                await device.process("status")
            printer = self.printer()
            if device.state != "error" or printer is None or printer.state != "ready":
                return
            await asyncio.sleep(1.0)

    def _off_after_shutdown(self) -> None:
        self._shutdown_timer = None
        printer = self.printer()
        if printer is None or printer.state != "shutdown":
            return
        for device in self.devices.values():
            if device.config.off_when_shutdown and device.state != "off":
                log.info("power %s: off, the printer shut down", device.name)
                self._spawn(device.process("off", force=True))

    def _on_queue_changed(self, event: JobQueueChanged) -> None:
        if event.action != "jobs_added":
            return
        for device in self.devices.values():
            if device.config.on_when_job_queued and device.state == "off":
                log.info("power %s: on, a job was queued", device.name)
                self._spawn(device.process("on"))

    def _on_mqtt_connected(self, event: MqttConnected) -> None:
        # the broker may have restarted: ask MQTT devices for their state again
        for device in self.devices.values():
            if device.type == "mqtt":
                self._spawn(device.process("status"))

    # -- changes of state ---------------------------------------------------------------

    def _on_change(self, device: PowerDevice, previous: str, by_us: bool) -> None:
        self.server.send_notification("notify_power_changed", [device.info()])
        self.server.events.emit(PowerChanged(device.name, device.state))
        if device.state not in ("on", "off") or previous == "init":
            return
        if not by_us and device.config.restrict_action_processing:
            return
        if device.state == "on" and device.config.restart_klipper_when_powered:
            self._spawn(self._reconnect_printer(device))
        if device.config.bound_services:
            self._spawn(self._bound_services(device))

    async def _reconnect_printer(self, device: PowerDevice) -> None:
        await asyncio.sleep(device.config.restart_delay)
        printer = self.printer()
        if printer is None or await self.is_printing():
            return
        log.info("power %s: powered on; reconnecting the printer", device.name)
        try:
            if printer.state != "disconnected":
                await printer.disconnect()
            await printer.connect()
        except ServerError as exc:
            log.warning("power %s: printer reconnect failed: %s", device.name, exc.message)

    async def _bound_services(self, device: PowerDevice) -> None:
        action = "start" if device.state == "on" else "stop"
        for service in device.config.bound_services:
            try:
                await self.server.registry.call(f"machine.services.{action}",
                                                {"service": service}, _INTERNAL)
            except ServerError as exc:
                log.warning("power %s: cannot %s bound service %s: %s", device.name,
                            action, service, exc.message)

    def _spawn(self, coro: Awaitable[object]) -> None:
        self._tasks.spawn(coro)


def _build(name: str, config: PowerSection, power: PowerComponent) -> PowerDevice:
    # imported per type: gpio needs nothing at import, mqtt needs the mqtt component
    from components.power import config as c

    if isinstance(config, c.GpioSection):
        from components.power.gpio import GpioDevice

        return GpioDevice(name, config)
    if isinstance(config, c.TasmotaSection):
        from components.power.network import TasmotaDevice

        return TasmotaDevice(name, config)
    if isinstance(config, c.ShellySection):
        from components.power.network import ShellyDevice

        return ShellyDevice(name, config)
    if isinstance(config, c.HomeAssistantSection):
        from components.power.network import HomeAssistantDevice

        return HomeAssistantDevice(name, config)
    if isinstance(config, c.HttpSection):
        from components.power.http_device import HttpDevice

        return HttpDevice(name, config)
    if isinstance(config, c.MqttDeviceSection):
        from components.power.mqtt_device import MqttDevice

        mqtt = power.server.find(MqttApi)
        if mqtt is None:
            raise ValueError("option 'type': mqtt devices need the [mqtt] section")
        return MqttDevice(name, config, mqtt)
    if isinstance(config, c.MarlinSection):
        from components.power.marlin import MarlinDevice

        def printer() -> PrinterApi | None:
            return power.server.find(PrinterApi)

        return MarlinDevice(name, config, printer)
    raise ValueError(f"option 'type': unknown {config.type!r}")
