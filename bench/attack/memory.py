"""Watch the memory of a server's workers while an attack holds: the largest growth of any worker."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from bench.harness import children, memory_mb


@dataclass
class MemoryWatch:
    """Samples the resident memory of ``master``'s workers every ``interval_s`` until stopped."""

    master: int
    interval_s: float = 0.2
    baseline_mb: dict[int, float] = field(default_factory=dict)
    peak_mb: dict[int, float] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> MemoryWatch:
        """Take each worker's baseline now and keep sampling in a thread."""
        self.baseline_mb = self._sample()
        self.peak_mb = dict(self.baseline_mb)
        self._thread = threading.Thread(target=self._run, name="memory-watch", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    @property
    def growth_mb(self) -> float:
        """The largest rise of one worker's RSS over its baseline (a worker started meanwhile
        counts from zero, so a replaced worker shows as growth rather than hiding it)."""
        return max((peak - self.baseline_mb.get(pid, 0.0) for pid, peak in self.peak_mb.items()), default=0.0)

    @property
    def workers_replaced(self) -> bool:
        return set(self.peak_mb) != set(self.baseline_mb)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            for pid, rss in self._sample().items():
                self.peak_mb[pid] = max(rss, self.peak_mb.get(pid, 0.0))

    def _sample(self) -> dict[int, float]:
        found = {}
        for pid in children(self.master):
            try:
                found[pid] = memory_mb(pid)[0]
            except (OSError, ValueError):
                continue  # exited between the listing and the read
        return found
