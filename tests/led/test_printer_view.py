"""From Klipper-shaped status objects to LED conditions, with explicit time."""

from __future__ import annotations

from typing import Any

from components.led.precedence import Layer, resolve
from components.led.printer_view import PrinterTracker


def status(print_state: str = "standby", progress: float = 0.0, bed: tuple[float, float] = (
        20.0, 0.0), hotend: tuple[float, float] = (20.0, 0.0)) -> dict[str, dict[str, Any]]:
    return {
        "webhooks": {"state": "ready", "state_message": "Printer is ready"},
        "print_stats": {"state": print_state, "filename": "a.gcode"},
        "virtual_sdcard": {"progress": progress},
        "heater_bed": {"temperature": bed[0], "target": bed[1]},
        "extruder": {"temperature": hotend[0], "target": hotend[1]},
    }


def test_printer_states_without_a_print() -> None:
    tracker = PrinterTracker()
    assert resolve(tracker.observe("disconnected", {}, 0.0).layers) is Layer.DISCONNECTED
    assert resolve(tracker.observe("startup", {}, 0.0).layers) is Layer.DISCONNECTED
    assert resolve(tracker.observe("error", {}, 0.0).layers) is Layer.ERROR
    assert resolve(tracker.observe("shutdown", {}, 0.0).layers) is Layer.ERROR
    assert resolve(tracker.observe("ready", status(), 0.0).layers) is Layer.IDLE
    # a printer that reports nothing yet is idle, not broken
    assert resolve(tracker.observe("ready", {}, 0.0).layers) is Layer.IDLE


def test_heating_bed_first_then_hotend_from_the_temperature_at_the_target() -> None:
    tracker = PrinterTracker(heating_tolerance=2.0)
    view = tracker.observe("ready", status(bed=(20, 60), hotend=(20, 200)), 0.0)
    assert resolve(view.layers) is Layer.HEATING
    assert (view.heating, view.heating_progress) == ("heater_bed", 0.0)
    view = tracker.observe("ready", status(bed=(40, 60), hotend=(110, 200)), 1.0)
    assert (view.heating, view.heating_progress) == ("heater_bed", 0.5)
    # within the tolerance the bed counts as reached; the hotend's bar started at 20
    view = tracker.observe("ready", status(bed=(58.5, 60), hotend=(110, 200)), 2.0)
    assert (view.heating, view.heating_progress) == ("extruder", 0.5)
    view = tracker.observe("ready", status(bed=(60, 60), hotend=(198.5, 200)), 3.0)
    assert view.heating is None
    assert Layer.HEATING not in view.layers
    # once reached, the normal wobble of a heater during a print is not heating
    view = tracker.observe("ready", status("printing", 0.1, bed=(55, 60), hotend=(190, 200)),
                           4.0)
    assert resolve(view.layers) is Layer.PRINTING
    # a new target starts a new bar
    view = tracker.observe("ready", status("printing", 0.2, bed=(60, 60), hotend=(200, 220)),
                           5.0)
    assert resolve(view.layers) is Layer.HEATING
    assert (view.heating, view.heating_progress) == ("extruder", 0.0)


def test_cooling_down_is_not_heating() -> None:
    tracker = PrinterTracker()
    tracker.observe("ready", status(hotend=(200, 200)), 0.0)
    view = tracker.observe("ready", status(hotend=(200, 150)), 1.0)
    assert Layer.HEATING not in view.layers
    view = tracker.observe("ready", status(hotend=(190, 0)), 2.0)
    assert Layer.HEATING not in view.layers


def test_print_progress_pause_and_complete_for_complete_time() -> None:
    tracker = PrinterTracker(complete_time=60.0)
    view = tracker.observe("ready", status("printing", 0.42), 0.0)
    assert resolve(view.layers) is Layer.PRINTING
    assert view.print_progress == 0.42
    assert resolve(tracker.observe("ready", status("paused", 0.5), 1.0).layers) is Layer.PAUSED
    tracker.observe("ready", status("printing", 0.9), 2.0)
    view = tracker.observe("ready", status("complete", 0.999), 10.0)
    assert resolve(view.layers) is Layer.COMPLETE
    assert view.print_progress == 1.0
    assert resolve(tracker.observe("ready", status("complete"), 69.9).layers) is Layer.COMPLETE
    assert resolve(tracker.observe("ready", status("complete"), 70.0).layers) is Layer.IDLE


def test_job_finished_event_starts_the_clock_before_the_status_shows_it() -> None:
    tracker = PrinterTracker(cancelled_time=30.0)
    tracker.observe("ready", status("printing", 0.3), 0.0)
    tracker.job_finished("cancelled", 5.0)
    assert resolve(tracker.observe("ready", status("cancelled"), 6.0).layers) is Layer.CANCELLED
    assert resolve(tracker.observe("ready", status("cancelled"), 34.9).layers) is \
        Layer.CANCELLED
    assert resolve(tracker.observe("ready", status("cancelled"), 35.0).layers) is Layer.IDLE


def test_a_failed_print_shows_error_until_the_next_print_when_error_time_is_zero() -> None:
    tracker = PrinterTracker(error_time=0.0)
    tracker.observe("ready", status("printing"), 0.0)
    assert resolve(tracker.observe("ready", status("error"), 1.0).layers) is Layer.ERROR
    assert resolve(tracker.observe("ready", status("error"), 1e6).layers) is Layer.ERROR
    assert resolve(tracker.observe("ready", status("printing"), 1e6 + 1).layers) is \
        Layer.PRINTING


def test_an_old_result_seen_at_start_up_is_not_shown() -> None:
    tracker = PrinterTracker()
    assert resolve(tracker.observe("ready", status("complete"), 0.0).layers) is Layer.IDLE


def test_zero_complete_time_keeps_complete_until_the_next_print() -> None:
    tracker = PrinterTracker(complete_time=0.0)
    tracker.observe("ready", status("printing"), 0.0)
    assert resolve(tracker.observe("ready", status("complete"), 1e6).layers) is Layer.COMPLETE


def test_odd_values_do_not_break_the_view() -> None:
    tracker = PrinterTracker()
    odd = status("printing")
    odd["virtual_sdcard"]["progress"] = None
    odd["extruder"] = {"temperature": float("nan"), "target": "hot"}
    view = tracker.observe("ready", odd, 0.0)
    assert resolve(view.layers) is Layer.PRINTING
    assert view.print_progress == 0.0
