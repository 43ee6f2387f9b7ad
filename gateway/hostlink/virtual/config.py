"""Configuration of the virtual Marlin printer (all fields defaulted, keyword-only)."""

from __future__ import annotations

import msgspec


class VirtualPrinterConfig(msgspec.Struct, kw_only=True, frozen=True):
    """What the simulated board is built with.

    Defaults follow a stock Marlin 2.1 configuration on an AVR-class board.  Durations of
    physical processes (moves, heating, dwell, firmware timers such as ``M155``/``busy:``
    intervals) are simulated durations: they take ``duration / time_scale`` seconds of wall
    time.  Serial wire pacing is never scaled: the baud rate is real.
    """

    # --- serial line -----------------------------------------------------------------
    baud: int = 250000  # 0: an infinitely fast wire (native USB)
    bufsize: int = 4  # command queue slots (BUFSIZE)
    rx_buffer_size: int = 128  # RX ring bytes; like AVR, one slot stays free
    tx_buffer_size: int = 0  # 0: firmware waits for its output to leave the wire
    max_cmd_size: int = 96  # MAX_CMD_SIZE: longer lines are truncated
    host_buffer_size: int = 4096  # bytes the host OS/adapter accepts ahead of the wire
    advanced_ok: bool = True
    emergency_parser: bool = True
    meatpack: bool = False  # MEATPACK: unpacks what the host packs (Cap:MEATPACK:1)
    # A line with ``*checksum`` but no ``N`` (e.g. the tail of a line cut by an RX drain):
    # True answers "Error:No Line Number with checksum, Last Line: N" (no resend, no ok) as
    # older Marlin did; False passes it to the parser like Marlin 2.1's queue.cpp does,
    # which answers 'echo:Unknown command: "..."' and an ok.
    reject_unnumbered_checksum: bool = True
    reset_on_open: bool = False  # behave like an AVR board whose DTR resets it on open
    # wall seconds from that reset to the firmware's start: the bootloader waiting for an
    # upload (Optiboot about 1 s); what the host sends meanwhile is lost. Also keeps the
    # banner out of the host's own port set-up (pyserial flushes its input on open).
    bootloader_time: float = 0.5
    boot_time: float = 0.0  # wall seconds after a reset during which input is lost
    # --- features ----------------------------------------------------------------------
    autoreport_temp: bool = True
    autoreport_pos: bool = True
    autoreport_sd_status: bool = True
    host_action_commands: bool = True
    prompt_support: bool = True
    sdcard: bool = True
    # PSU_CONTROL: M80/M81 switch the power supply (Cap:SOFTWARE_POWER); `M80 S` reports it
    software_power: bool = False
    babystepping: bool = False  # BABYSTEPPING: M290
    cancel_objects: bool = True  # CANCEL_OBJECTS: M486
    sd_dir: str | None = None  # None: a fresh temporary directory
    record_path: str | None = None  # also append every executed command to this file
    firmware_version: str = "2.1.2.1"
    machine_type: str = "Virtual Printer"
    uuid: str = "d2f0c7a0-5c3b-4a7e-9a53-5b1d7c9e0a11"
    # --- timing ------------------------------------------------------------------------
    # Moves (G0-G3) are acknowledged without motion planning, only paced by
    # command_delay: a firmware whose own command rate is the limit (native USB boards).
    lean: bool = False
    time_scale: float = 1.0
    # Processing time per command, wall seconds: the firmware takes at most one command
    # per command_delay on average (a bounded burst of at most a millisecond ahead).
    command_delay: float = 0.0
    keepalive_interval: float = 2.0  # DEFAULT_KEEPALIVE_INTERVAL (M113)
    first_move_delay: float = 0.1  # BLOCK_DELAY_FOR_1ST_MOVE
    starvation_threshold: float = 2.0  # longer idle gaps are deliberate, not starvation
    # --- machine -----------------------------------------------------------------------
    block_buffer_size: int = 16
    bed_size: tuple[float, float, float] = (235.0, 235.0, 250.0)
    steps_per_mm: tuple[float, float, float, float] = (80.0, 80.0, 400.0, 93.0)
    max_feedrate: tuple[float, float, float, float] = (300.0, 300.0, 5.0, 25.0)  # mm/s
    max_acceleration: tuple[float, float, float, float] = (3000.0, 3000.0, 100.0, 10000.0)
    acceleration: float = 3000.0  # M204 P
    retract_acceleration: float = 3000.0  # M204 R
    travel_acceleration: float = 3000.0  # M204 T
    junction_deviation: float = 0.013
    default_feedrate: float = 50.0  # mm/s until the first F word
    homing_feedrate: tuple[float, float, float] = (50.0, 50.0, 4.0)  # mm/s
    mm_per_arc_segment: float = 1.0
    # --- thermal -----------------------------------------------------------------------
    extruder_count: int = 1
    heated_bed: bool = True
    ambient_temp: float = 22.0
    hotend_max_rise: float = 280.0  # steady state at full power above ambient
    hotend_time_constant: float = 20.0
    bed_max_rise: float = 100.0
    bed_time_constant: float = 60.0
    temp_window: float = 1.0
    temp_hysteresis: float = 3.0
    temp_residency_time: float = 10.0
    bed_residency_time: float = 10.0
    extrude_mintemp: float = 170.0
    # a heated chamber (HEATED_CHAMBER: M141/M191, Cap:CHAMBER_TEMPERATURE:1, reported
    # as " C:<t> /<target>" and " C@:<power>"); it warms the air around the bed
    heated_chamber: bool = False
    chamber_max_rise: float = 50.0  # steady state at full power above ambient
    chamber_time_constant: float = 90.0
    # unheated sensors in the temperature report, by Marlin's letters: "C" chamber,
    # "P" probe, "M" board (e.g. "CPM")
    extra_sensors: str = ""
    # --- bed levelling (cmd_mesh.py) --------------------------------------------------
    leveling: str = "bilinear"  # report style: "bilinear", "ubl", "mbl" or "none"
    mesh_grid: tuple[int, int] = (5, 5)  # GRID_MAX_POINTS_X/Y
    mesh_min: tuple[float, float] = (30.0, 30.0)  # probed area (UBL: the mesh inset)
    mesh_max: tuple[float, float] = (205.0, 205.0)
    mesh_seed: int = 1  # shape of the simulated bed: same seed, same mesh
    probe_time: float = 1.0  # simulated seconds per probed point
