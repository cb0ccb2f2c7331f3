"""``--profile DIR``: a py-spy profile of each system under test during its burst, and a summary in the JSON.

py-spy samples the process from outside (``--nonblocking``: the process is not paused), so the figures of a
profiled run stay close to an unprofiled one. It is not a dependency of the project: install it in the virtualenv
(``pip install py-spy``) to use this option. The raw file (``<scenario>.folded``, one stack per line with its
sample count) feeds any flame-graph tool; the summary lists the frames with the largest share of samples.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
import signal
import sys
from collections import Counter
from pathlib import Path

from gateway.errors import ConfigurationError

_LOCATION = re.compile(r" \(([^()]*)\)$")
_ROOT = str(Path(__file__).resolve().parents[2]) + "/"


def py_spy() -> str:
    beside = Path(sys.executable).parent / "py-spy"
    found = str(beside) if beside.is_file() else shutil.which("py-spy")
    if found is None:
        raise ConfigurationError("--profile needs py-spy: pip install py-spy (into this virtualenv)")
    return found


class Profiler:
    def __init__(self, pid: int, path: Path) -> None:
        self._pid = pid
        self.path = path
        self._process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self._process = await asyncio.create_subprocess_exec(
            py_spy(),
            *("record", "--pid", str(self._pid), "--rate", "100", "--nonblocking", "--format", "raw"),
            *("--output", str(self.path)),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )

    async def stop(self) -> None:
        """SIGINT makes py-spy write what it sampled and exit."""
        process, self._process = self._process, None
        if process is None or process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(process.wait(), 30)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()


def _short(match: re.Match[str]) -> str:
    """Locations as py-spy shortens them (``httpcore/_async/connection_pool.py:294``); the absolute paths it keeps
    are shortened the same way: after ``site-packages/``, relative to the project, or the file name."""
    location = match.group(1)
    if "site-packages/" in location:
        location = location.rsplit("site-packages/", 1)[1]
    elif location.startswith(_ROOT):
        location = location[len(_ROOT) :]
    elif location.startswith("/"):
        location = location.rsplit("/", 1)[-1]
    return f" ({location})"


def summary(path: Path, top: int = 25) -> dict[str, object]:
    """Samples, and the frames present in the largest share of them (inclusive), e.g. ``"map_event
    (gateway/documents.py:83)": 26.3``; the event loop's own frames are left out."""
    counts: Counter[str] = Counter()
    total = 0
    if not path.is_file():
        return {"samples": 0, "frames": {}}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, number = line.rpartition(" ")
        if not number.isdigit():
            continue
        samples = int(number)
        total += samples
        for frame in {_LOCATION.sub(_short, frame) for frame in stack.split(";")}:
            counts[frame] += samples
    skipped = ("asyncio/", "<frozen runpy>", "<module>", "runners.py", "events.py", "base_events.py")
    frames = {
        frame: round(100 * samples / total, 1)
        for frame, samples in counts.most_common()
        if not any(part in frame for part in skipped)
    }
    return {"samples": total, "frames": dict(list(frames.items())[:top])}
