"""Markdown tables of the experiments' evaluations (``RUNS/<run>/eval.json``), as in the model card.

    .venv/bin/python models/configs/summarize_runs.py runs
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(runs: Path) -> int:
    detection, classification = [], []
    for path in sorted(runs.glob("*/eval.json")):
        metrics = json.loads(path.read_text())
        name = path.parent.name
        if "frame_accuracy" in metrics:
            seg = metrics["segment_map"]
            detection.append(f"| {name} | {metrics['frame_accuracy']:.3f} | {metrics['frame_map']:.3f} | "
                             f"{seg['0.1']:.3f} | {seg['0.3']:.3f} | {seg['0.5']:.3f} |")  # fmt: skip
        else:
            nn = metrics.get("nearest_neighbour_accuracy")
            classification.append(f"| {name} | {metrics['accuracy']:.3f} | {'' if nn is None else f'{nn:.3f}'} |")
    print("| run (UTKinect, train 1-4, validate 5-6) | frame acc | frame mAP | seg mAP@0.1 | @0.3 | @0.5 |")
    print("|---|---|---|---|---|---|")
    print("\n".join(detection))
    print()
    print("| run (MSR Action3D, train 1,3,5,7, test 2,4,6) | clip accuracy | 1-NN accuracy |")
    print("|---|---|---|")
    print("\n".join(classification))
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "runs")))
