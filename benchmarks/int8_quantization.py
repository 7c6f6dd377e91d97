"""Static INT8 (QDQ, ONNX Runtime's quantisation tooling) against fp32 ONNX Runtime: speed and accuracy, one run.

The INT8 model is `models.export.quantize`'s: MatMul and Gemm quantised
symmetric int8 (weights per channel), calibrated on real windows of the
checkpoint's training data (UTKinect subjects 1-4 for the shipped one). Both
run in the onnxruntime backend as ``stream-run`` runs them (2 threads, the two
encoder streams in parallel; 1 thread too), timed interleaved in rounds so
load drifts hit both alike, at the batches the stream makes (1-8 tracks).
Accuracy: frame accuracy and frame mAP on UTKinect validation (subjects 5-6)
as ``stream-run`` labels by default (stride 1, causal) and by the model card's
offline protocol (stride 8, every window), plus the per-frame arg-max
agreement of the two models on those windows.

The verdict applies issue 15's rule: INT8 is worth offering only if it is
faster at every measured batch and costs at most 1 point of frame accuracy.

    .venv/bin/python -m benchmarks.int8_quantization
    .venv/bin/python -m benchmarks.int8_quantization --rounds 20 --calls 50 --batches 1 8
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks.machine import machine_info
from benchmarks.results_files import write_results
from models.pretrained import DEFAULT_CHECKPOINT


RESULTS = Path(__file__).resolve().parent / "results"
DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
MAX_ACCURACY_LOSS = 0.01


def time_interleaved(backends: dict, windows: np.ndarray, rounds: int, calls: int) -> dict[str, list[float]]:
    """Seconds per call of each backend, ``calls`` in a row per backend per round, backends alternating."""
    times: dict[str, list[float]] = {name: [] for name in backends}
    for backend in backends.values():  # warm-up
        for _ in range(5):
            backend.run(windows)
    for _ in range(rounds):
        for name, backend in backends.items():
            for _ in range(calls):
                started = time.perf_counter()
                backend.run(windows)
                times[name].append(time.perf_counter() - started)
    return times


def accuracy(backend, config, sequences) -> dict[str, dict]:
    from models.evaluation.runner import evaluate_detection

    return {name: evaluate_detection(backend.run, config, sequences, stride=stride, lookahead=lookahead)
            for name, (stride, lookahead) in (("stream (stride 1, causal)", (1, 0)),
                                              ("offline (stride 8, all windows)", (8, None)))}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", default=str(DEFAULT_CHECKPOINT))
    parser.add_argument("--data-root", default=str(DATA))
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--threads", type=int, nargs="+", default=[2, 1])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--calls", type=int, default=30, help="calls per backend per round")
    parser.add_argument("--skip-accuracy", action="store_true")
    parser.add_argument("--json", type=Path, default=RESULTS / "int8_quantization.json")
    args = parser.parse_args(argv)
    os.environ.setdefault("SKELSTREAM_DATA", args.data_root)

    from models.datasets.registry import load_dataset
    from models.export.calibration import calibration_windows
    from stream.backends.onnxruntime_backend import OnnxRuntimeBackend

    load_before = os.getloadavg()
    backends = {f"{precision} {threads}t": OnnxRuntimeBackend(args.checkpoint, threads=threads, precision=precision)
                for threads in args.threads for precision in ("fp32", "int8")}  # fmt: skip
    config = next(iter(backends.values())).config
    windows = calibration_windows("utkinect:5,6", config, args.data_root, max_windows=max(args.batches))
    speed = []
    for batch in args.batches:
        times = time_interleaved(backends, windows[:batch], args.rounds, args.calls)
        for threads in args.threads:
            fp32, int8 = (np.array(times[f"{p} {threads}t"]) * 1e3 for p in ("fp32", "int8"))
            speed.append({"batch": batch, "threads": threads, "fp32_median_ms": float(np.median(fp32)),
                          "int8_median_ms": float(np.median(int8)), "fp32_p95_ms": float(np.percentile(fp32, 95)),
                          "int8_p95_ms": float(np.percentile(int8, 95)),
                          "speedup": float(np.median(fp32) / np.median(int8))})  # fmt: skip
            row = speed[-1]
            print(f"batch {batch} threads {threads}: fp32 {row['fp32_median_ms']:.2f} ms, int8 "
                  f"{row['int8_median_ms']:.2f} ms (×{row['speedup']:.2f})", flush=True)  # fmt: skip
    load_after_speed = os.getloadavg()
    result = {"machine": machine_info(), "checkpoint": args.checkpoint, "load_before": load_before,
              "load_after_speed": load_after_speed, "speed": speed}  # fmt: skip
    faster = all(row["speedup"] > 1.0 for row in speed if row["threads"] == args.threads[0])
    verdict = [f"faster at every batch ({args.threads[0]} threads): {faster}"]
    if not args.skip_accuracy:
        sequences = load_dataset("utkinect", args.data_root, [5, 6])
        fp32_backend, int8_backend = backends[f"fp32 {args.threads[0]}t"], backends[f"int8 {args.threads[0]}t"]
        accuracies = {"fp32": accuracy(fp32_backend, config, sequences),
                      "int8": accuracy(int8_backend, config, sequences)}  # fmt: skip
        validation = calibration_windows("utkinect:5,6", config, args.data_root, max_windows=512)
        agree = float(np.mean(np.concatenate([fp32_backend.run(validation[i:i + 32]).argmax(-1).ravel()
                                              == int8_backend.run(validation[i:i + 32]).argmax(-1).ravel()
                                              for i in range(0, len(validation), 32)])))  # fmt: skip
        result["accuracy"] = {precision: {name: {k: m[k] for k in ("frame_accuracy", "frame_map", "time_to_detect")}
                                          for name, m in per.items()} for precision, per in accuracies.items()}
        result["argmax_agreement"] = agree
        losses = [accuracies["fp32"][name]["frame_accuracy"] - accuracies["int8"][name]["frame_accuracy"]
                  for name in accuracies["fp32"]]
        for name in accuracies["fp32"]:
            print(f"{name}: frame accuracy fp32 {accuracies['fp32'][name]['frame_accuracy']:.4f}, int8 "
                  f"{accuracies['int8'][name]['frame_accuracy']:.4f}; frame mAP fp32 "
                  f"{accuracies['fp32'][name]['frame_map']:.4f}, int8 {accuracies['int8'][name]['frame_map']:.4f}")
        print(f"per-frame arg-max agreement on {len(validation)} validation windows: {agree:.4f}")
        verdict.append(f"frame accuracy lost at most {max(losses):.4f} (limit {MAX_ACCURACY_LOSS})")
        faster = faster and max(losses) <= MAX_ACCURACY_LOSS
    result["load_after"] = os.getloadavg()
    result["ship_int8"] = faster
    print("; ".join(verdict) + f" → offer --precision int8: {'yes' if faster else 'no'}")
    print(f"load average {load_before[0]:.2f} before, {result['load_after'][0]:.2f} after (on "
          f"{os.cpu_count()} CPUs)")  # fmt: skip
    write_results(args.json, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
