"""What ``predict`` tells the person running it: a progress bar while it runs, on a terminal only,
and one summary line at the end, terminal or not.

The bar (tqdm, on stderr) shows a total and a percentage when the input's rows can be counted up
front (batch.formats.count_rows: a file, not stdin); the summary line gives the rows scored, the
rows rejected, the rate and where the output went, for a log or a pipeline to keep.
"""

from __future__ import annotations

import time
from typing import IO

from tqdm import tqdm


class Progress:
    """Counts the rows of one run, draws them as a bar on a terminal, and sums them up at the end."""

    def __init__(self, stream: IO[str], total: int | None) -> None:
        self.bar = tqdm(total=total, unit=" rows", unit_scale=True, file=stream, disable=not stream.isatty())
        self.scored = 0
        self.rejected = 0
        self.started = time.perf_counter()

    def update(self, scored: int, rejected: int) -> None:
        """Count a chunk's rows."""
        self.scored += scored
        self.rejected += rejected
        self.bar.update(scored + rejected)

    def write(self, text: str, stream: IO[str]) -> None:
        """Write ``text`` to ``stream`` without breaking the bar."""
        with self.bar.external_write_mode(file=stream):
            stream.write(text)

    def finish(self) -> None:
        """Close the bar at 100 %: its total becomes the rows read, which a count of lines may miss."""
        if self.bar.total is not None and self.bar.total != self.bar.n:
            self.bar.total = self.bar.n
            self.bar.refresh()
        self.bar.close()

    def close(self) -> None:
        """Close the bar where it stands (a run that stopped early)."""
        self.bar.close()

    def summary(self, output: str, listed: str) -> str:
        """One line: rows scored, rows rejected (and where they are ``listed``: ``above``, ``in
        FILE``), rows read per second since the first was read, and the output (a path, ``stdout``)."""
        seconds = time.perf_counter() - self.started
        rate = (self.scored + self.rejected) / seconds if seconds > 0 else 0.0
        rejected = f"{_rows(self.rejected)} rejected" + (f" (listed {listed})" if self.rejected else "")
        scored = f"{_rows(self.scored)} scored"
        return f"model-registry predict: {scored}, {rejected}, {rate:,.0f} rows/s, output: {output}"


def _rows(n: int) -> str:
    return f"{n:,} row" if n == 1 else f"{n:,} rows"
