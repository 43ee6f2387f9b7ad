"""Printing from the simulated SD card."""

from __future__ import annotations

from gateway.hostlink.virtual import VirtualPrinter

from .conftest import Host, PrinterFactory


def test_sd_listing_and_print(make_printer: PrinterFactory) -> None:
    vp, host = make_printer(time_scale=20.0)
    body = "".join(f"G1 X{i % 2 * 50} Y{i} F6000 ; move {i}\n" for i in range(1, 41)) + "M400\n"
    (vp.sd_dir / "calibration cube.gcode").write_text(body)
    (vp.sd_dir / "ab.gco").write_text("G28\n")
    listing = host.command("M20 L")
    assert listing[0] == "Begin file list"
    assert "AB.GCO 4 ab.gco" in listing
    cube = next(s for s in listing if s.endswith("calibration cube.gcode"))
    dos = cube.split()[0]
    assert dos == "CALIBR~1.GCO"
    assert host.command(f"M23 {dos}")[:2] == [
        f"File opened: {dos} Size: {len(body)}",
        "File selected",
    ]
    host.command("M27 S1")
    host.command("M24")
    progress = host.command("M27")[0]
    done, total = map(int, progress.removeprefix("SD printing byte ").split("/"))
    assert total == len(body) and 0 < done < total
    host.expect(lambda s: s.startswith("SD printing byte"), timeout=2)
    host.expect(lambda s: s == "Done printing file", timeout=10)
    host.command("M27 S0")
    assert host.command("M27")[0] == "Not SD printing"
    ex = vp.executed
    sd_lines = [f"G1 X{i % 2 * 50} Y{i} F6000" for i in range(1, 41)] + ["M400"]
    start = ex.index("M24") + 1
    assert [c for c in ex[start:] if not c.startswith("M27")] == sd_lines


def test_sd_open_failure_and_delete(printer: tuple[VirtualPrinter, Host]) -> None:
    vp, host = printer
    assert host.command("M23 NOPE.GCO")[0] == "open failed, File: NOPE.GCO."
    (vp.sd_dir / "old.gco").write_text("G90\n")
    assert host.command("M30 OLD.GCO")[0] == "File deleted:OLD.GCO"
    assert not (vp.sd_dir / "old.gco").exists()


def test_sd_write_with_m28_m29(printer: tuple[VirtualPrinter, Host]) -> None:
    vp, host = printer
    from .conftest import numbered

    host.command("M110 N0")
    host.send_n(1, "M28 up.gco")
    assert host.expect_ok()[0] == "Writing to file: UP.GCO"
    host.send_n(2, "G1 X1")
    host.expect_ok()
    host.send_n(3, "M29")
    assert host.expect_ok()[0] == "Done saving file."
    assert (vp.sd_dir / "UP.GCO").read_text() == "G1 X1\n"
    assert numbered(1, "x")
