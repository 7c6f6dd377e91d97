"""Per-stage latency statistics of a run: p50/p95/p99 over a bounded window of recent samples."""

from __future__ import annotations

from collections import deque

import numpy as np


class StageStats:
    """Durations (ns) per named stage; percentiles over the last ``keep`` samples of each, totals over all."""

    def __init__(self, keep: int = 20_000) -> None:
        self.keep = keep
        self.samples: dict[str, deque[int]] = {}
        self.counts: dict[str, int] = {}

    def add(self, stage: str, duration_ns: int) -> None:
        if stage not in self.samples:
            self.samples[stage] = deque(maxlen=self.keep)
            self.counts[stage] = 0
        self.samples[stage].append(duration_ns)
        self.counts[stage] += 1

    def percentiles_ms(self, stage: str) -> dict[str, float]:
        """{"p50", "p95", "p99"} in milliseconds (empty when the stage never ran)."""
        values = self.samples.get(stage)
        if not values:
            return {}
        p50, p95, p99 = np.percentile(np.fromiter(values, dtype=np.float64), [50, 95, 99]) / 1e6
        return {"p50": float(p50), "p95": float(p95), "p99": float(p99)}

    def summary(self) -> dict[str, dict[str, float]]:
        """Every stage's percentiles and count."""
        return {stage: {**self.percentiles_ms(stage), "count": self.counts[stage]} for stage in self.samples}

    def table(self) -> str:
        """A text table of the summary, one row per stage."""
        rows = [f"{'stage':<14}{'count':>8}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}"]
        for stage, values in self.summary().items():
            rows.append(f"{stage:<14}{values['count']:>8}{values['p50']:>10.2f}{values['p95']:>10.2f}{values['p99']:>10.2f}")
        return "\n".join(rows)
