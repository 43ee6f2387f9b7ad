"""Line intake of the simulated Marlin: reading lines into the command queue with
Marlin's line-number and checksum checks, line errors with their resend request, and
the emergency parser that sees the raw byte stream before any of that."""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING

from . import handlers
from .parser import checksum, command_text, strtol

if TYPE_CHECKING:
    from .firmware import Firmware

ERR_LINE_NO = "Line Number is not Last Line Number+1, Last Line: "
ERR_CHECKSUM = "checksum mismatch, Last Line: "
ERR_NO_CHECKSUM = "No Checksum with line number, Last Line: "
ERR_NO_LINE_NUMBER = "No Line Number with checksum, Last Line: "

EP_RE = re.compile(r"^ *(?:N[-0-9 ]*)?M(108|112|410|524|876)(.*)$")
_M876_ARG = re.compile(r"^ *S *([0-9])")
_TRAILING_CHECKSUM = re.compile(r"\*\s*\d+\s*$")


def read_commands(fw: Firmware) -> None:
    """Marlin's ``get_available_commands``: lines into free queue slots."""
    from .firmware import Command

    if fw.boot_until and time.monotonic() < fw.boot_until:
        return
    bufsize = fw.cfg.bufsize
    wire = fw.wire
    while len(fw.queue) < bufsize:
        line = wire.take_line()
        if line is None:
            break
        intake(fw, line)
    if fw.sd.printing:
        limit = fw.cfg.max_cmd_size - 1
        while len(fw.queue) < bufsize:
            sd_line = fw.sd.next_line(limit)
            if sd_line is None:
                break
            fw.queue.append(Command(sd_line, skip_ok=True, from_sd=True))


def intake(fw: Firmware, line: str) -> None:
    from .firmware import Command

    s = line.lstrip(" ")
    if s.startswith("N"):
        is_m110 = "M110" in s
        npos = 0
        if is_m110:
            n2 = s.find("N", 4)
            if n2 >= 0:
                npos = n2
        gcode_n = strtol(s[npos + 1 :])
        if gcode_n != fw.last_n + 1 and not is_m110:
            fw.stats.line_number_errors += 1
            line_error(fw, ERR_LINE_NO)
            return
        star = s.rfind("*")
        if star < 0:
            line_error(fw, ERR_NO_CHECKSUM)
            return
        bad = strtol(s[star + 1 :]) != checksum(s[:star])
        if not bad and fw.corruption_rate > 0 and fw.rng.random() < fw.corruption_rate:
            bad = True
        if bad:
            fw.stats.checksum_errors += 1
            line_error(fw, ERR_CHECKSUM)
            return
        fw.last_n = gcode_n
    elif fw.cfg.reject_unnumbered_checksum and _TRAILING_CHECKSUM.search(s):
        fw.emit("Error:" + ERR_NO_LINE_NUMBER + str(fw.last_n))
        return
    elif fw.sd.saving is not None and not handlers.is_m29(s):
        line_error(fw, ERR_NO_CHECKSUM)
        return
    cmd = Command(line)
    if fw.cfg.emergency_parser:
        cmd.ep_done = EP_RE.match(s) is not None
    else:
        early_critical(fw, s)
    fw.queue.append(cmd)


def early_critical(fw: Firmware, s: str) -> None:
    """Without the emergency parser Marlin checks M108/M112/M410 as lines are read."""
    text = command_text(s)
    if text.startswith("M108"):
        fw.wait_for_heatup = False
        fw.wait_for_user = False
    elif text.startswith("M112"):
        fw.record(text)
        fw.kill()
    elif text.startswith("M410"):
        fw.quick_stop()


def line_error(fw: Firmware, message: str) -> None:
    fw.emit("Error:" + message + str(fw.last_n))
    fw.wire.drain_rx()
    request_resend(fw)


def request_resend(fw: Firmware) -> None:
    fw.stats.resends_requested += 1
    fw.emit(f"Resend: {fw.last_n + 1}")
    fw.send_ok_line("ok")


def emergency_line(fw: Firmware, raw: bytes) -> None:
    """A line as the emergency parser saw it on the raw byte stream."""
    s = raw.decode("latin-1")
    m = EP_RE.match(s)
    if m is None:
        return
    code = m.group(1)
    if code == "876":
        arg = _M876_ARG.match(m.group(2))
        if arg is None:
            return
        fw.record(command_text(s))
        host_response(fw, int(arg.group(1)))
        return
    fw.record(command_text(s))
    if code == "108":
        fw.wait_for_heatup = False
        fw.wait_for_user = False
    elif code == "112":
        fw.ep_kill = True
    elif code == "410":
        fw.ep_quickstop = True
    elif code == "524":
        fw.ep_sd_abort = True


def host_response(fw: Firmware, choice: int) -> None:
    """M876 S<choice>: the host answered a prompt."""
    reason = fw.prompt_reason
    fw.prompt_reason = None
    if reason in ("continue", "filament"):
        fw.wait_for_user = False
    elif reason == "pause_resume" and fw.sd.selected is not None:
        fw.sd.printing = True
