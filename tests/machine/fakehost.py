"""A throwaway /proc + /sys tree for the machine component's samplers."""

from __future__ import annotations

from pathlib import Path

from components.machine.proc_stats import ProcStatsSampler

NET_DEV_HEADER = (
    "Inter-|   Receive                                                |  Transmit\n"
    " face |bytes    packets errs drop fifo frame compressed multicast|"
    "bytes    packets errs drop fifo colls carrier compressed\n"
)


class FakeClock:
    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


class FakeHost:
    """A throwaway /proc + /sys tree whose counters tests can advance."""

    def __init__(self, base: Path) -> None:
        self.proc = base / "proc"
        self.sys = base / "sys"
        (self.proc / "self").mkdir(parents=True)
        (self.proc / "net").mkdir()
        self.sys.mkdir()

    def write(self, rel: str, text: str) -> None:
        path = self.proc / rel if not rel.startswith("sys/") else self.sys / rel[4:]
        path.parent.mkdir(parents=True, exist_ok=True)
        # write_text truncates in place: same inode, so cached fds see it.
        path.write_text(text)

    def self_stat(self, utime: int, stime: int, comm: str = "sky sail) (x") -> None:
        rest = ["S", "1", "1", "1", "0", "-1", "0", "0", "0", "0", "0"]
        rest += [str(utime), str(stime), "0", "0", "20", "0", "3", "0", "100"]
        self.write("self/stat", f"4242 ({comm}) " + " ".join(rest) + "\n")

    def statm(self, rss_pages: int) -> None:
        self.write("self/statm", f"10000 {rss_pages} 500 10 0 2000 0\n")

    def cpu(self, rows: dict[str, tuple[int, int, int, int, int]]) -> None:
        # rows: name -> (user, nice, system, idle, iowait)
        lines = [f"{name} {u} {n} {s} {i} {w} 0 0 0 0 0" for name, (u, n, s, i, w) in rows.items()]
        self.write("stat", "\n".join(lines) + "\nintr 1 2 3\nctxt 99\nbtime 1\n")

    def meminfo(self, total: int, free: int, available: int | None) -> None:
        text = f"MemTotal:       {total} kB\nMemFree:        {free} kB\n"
        if available is not None:
            text += f"MemAvailable:   {available} kB\n"
        text += "Buffers:          100 kB\nCached:           200 kB\n"
        self.write("meminfo", text)

    def net(self, rows: dict[str, tuple[int, int, int, int]]) -> None:
        # rows: name -> (rx_bytes, rx_packets, tx_bytes, tx_packets)
        lines = []
        for name, (rxb, rxp, txb, txp) in rows.items():
            lines.append(f"{name:>6}: {rxb} {rxp} 1 2 0 0 0 0 {txb} {txp} 3 4 0 0 0 0")
        self.write("net/dev", NET_DEV_HEADER + "\n".join(lines) + "\n")

    def populate(self) -> None:
        self.self_stat(100, 50)
        self.statm(2500)
        self.cpu(
            {"cpu": (100, 0, 100, 800, 0), "cpu0": (50, 0, 50, 400, 0), "cpu1": (50, 0, 50, 400, 0)}
        )
        self.meminfo(1000000, 200000, 600000)
        self.net({"lo": (1000, 10, 1000, 10), "eth0": (5000, 50, 3000, 30)})
        self.write("uptime", "5846.20 11000.50\n")

    def thermal(self, zone: int, zone_type: str, millideg: int) -> None:
        self.write(f"sys/class/thermal/thermal_zone{zone}/type", zone_type + "\n")
        self.write(f"sys/class/thermal/thermal_zone{zone}/temp", f"{millideg}\n")


def make(host: FakeHost, clock: FakeClock) -> ProcStatsSampler:
    return ProcStatsSampler(proc_root=str(host.proc), sys_root=str(host.sys), monotonic=clock)


def put(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path
