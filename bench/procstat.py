"""What a server process costs, read from ``/proc``: CPU seconds and resident memory."""

from __future__ import annotations

import importlib.metadata
import os
from dataclasses import dataclass
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int, *, children: bool = False) -> float:
    """User plus system CPU time of ``pid`` (all its threads) so far."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    # the command name may contain spaces: fields start after the last ')'
    fields = stat[stat.rindex(")") + 2 :].split()
    used = int(fields[11]) + int(fields[12])
    if children:  # waited-for children (the compiled readers)
        used += int(fields[13]) + int(fields[14])
    return used / _TICK


def _status_kib(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise ValueError(f"no {key} in /proc/{pid}/status")


def rss_kib(pid: int) -> int:
    return _status_kib(pid, "VmRSS")


def peak_rss_kib(pid: int) -> int:
    """Peak resident set size (VmHWM) over the process's life."""
    return _status_kib(pid, "VmHWM")


@dataclass(frozen=True, slots=True)
class Machine:
    cpus: int
    cpu_model: str
    kernel: str
    python: str
    uvloop: str
    load: str

    def describe(self) -> str:
        return (
            f"{self.cpus} x {self.cpu_model}, Linux {self.kernel}, Python {self.python}, "
            f"uvloop {self.uvloop}, load average before run {self.load}"
        )


def machine() -> Machine:
    import platform

    model = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    try:
        uv = importlib.metadata.version("uvloop")
    except importlib.metadata.PackageNotFoundError:
        uv = "not installed"
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return Machine(
        os.cpu_count() or 1, model, platform.release(), platform.python_version(), uv, load
    )
