"""The pure parts of the history: ids, metadata snapshots, finishing a job."""

from __future__ import annotations

from components.history.jobs import Job, clean_metadata, format_job_id, parse_job_id


def test_job_ids() -> None:
    assert format_job_id(1) == "000001"
    assert format_job_id(0xABCDEF1) == "ABCDEF1"
    assert parse_job_id("00002a") == 42
    assert parse_job_id("zz") is None
    assert parse_job_id("-1") is None


def test_metadata_snapshot_drops_job_fields_and_thumbnail_data() -> None:
    metadata = {
        "size": 10, "print_start_time": 1.0, "job_id": "000001",
        "thumbnails": [{"width": 32, "data": "iVBOR...", "relative_path": ".thumbs/a.png"}],
    }
    assert clean_metadata(metadata) == {
        "size": 10, "thumbnails": [{"width": 32, "relative_path": ".thumbs/a.png"}]}
    assert metadata["job_id"] == "000001"  # the caller's copy is untouched
    assert clean_metadata(None) == {}


def test_finish_takes_the_printer_numbers_or_the_clock() -> None:
    job = Job(filename="a.gcode", start_time=100.0)
    job.finish("completed", {"print_duration": 5, "total_duration": 7.5,
                             "filament_used": 3.25}, now=110.0)
    assert (job.status, job.end_time) == ("completed", 110.0)
    assert (job.print_duration, job.total_duration, job.filament_used) == (5.0, 7.5, 3.25)
    other = Job(filename="b.gcode", start_time=100.0)
    other.finish("cancelled", {"print_duration": None, "total_duration": "x"}, now=104.0)
    assert (other.print_duration, other.total_duration, other.filament_used) == (0.0, 4.0, 0.0)
