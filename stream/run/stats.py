"""Per-stage latency statistics of a run: p50/p95/p99 over a bounded window of recent samples."""

from __future__ import annotations

import numpy as np


class StageStats:
    """Durations (ns) per named stage; percentiles over the last ``keep`` samples of each, totals over all.

    Each stage keeps its samples in one preallocated int64 ring (8 bytes a sample, no
    Python object per sample), so memory stays small and bounded however long the run.
    """

    def __init__(self, keep: int = 20_000) -> None:
        self.keep = keep
        self._rings: dict[str, np.ndarray] = {}
        self.counts: dict[str, int] = {}

    def add(self, stage: str, duration_ns: int) -> None:
        ring = self._rings.get(stage)
        if ring is None:
            ring = self._rings[stage] = np.zeros(self.keep, dtype=np.int64)
            self.counts[stage] = 0
        ring[self.counts[stage] % self.keep] = duration_ns
        self.counts[stage] += 1

    def recent(self, stage: str) -> np.ndarray:
        """The last ``keep`` durations (ns) of ``stage``, in ring order (empty when it never ran)."""
        ring = self._rings.get(stage)
        return np.zeros(0, dtype=np.int64) if ring is None else ring[: min(self.counts[stage], self.keep)]

    def percentiles_ms(self, stage: str) -> dict[str, float]:
        """{"p50", "p95", "p99"} in milliseconds (empty when the stage never ran)."""
        values = self.recent(stage)
        if not len(values):
            return {}
        p50, p95, p99 = np.percentile(values.astype(np.float64), [50, 95, 99]) / 1e6
        return {"p50": float(p50), "p95": float(p95), "p99": float(p99)}

    def summary(self) -> dict[str, dict[str, float]]:
        """Every stage's percentiles and count."""
        return {stage: {**self.percentiles_ms(stage), "count": self.counts[stage]} for stage in self._rings}

    def table(self) -> str:
        """A text table of the summary, one row per stage."""
        rows = [f"{'stage':<14}{'count':>8}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}"]
        for stage, values in self.summary().items():
            rows.append(f"{stage:<14}{values['count']:>8}{values['p50']:>10.2f}{values['p95']:>10.2f}"
                        f"{values['p99']:>10.2f}")  # fmt: skip
        return "\n".join(rows)
