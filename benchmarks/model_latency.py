"""Model latency by backend, size and batch: median and p99 after warm-up, windows/s, and the ratio to the
machine's floor, so numbers from different machines can be compared.

Each cell times ``backend.run(windows)`` — the backend interface the stream
uses: float32 windows in, float32 per-frame logits out, host↔device copies
included. The floor of a cell is ``max(FLOPs / measured matmul rate, bytes /
measured memory bandwidth)`` on the device the backend runs on (FLOPs = 2 ×
MACs counted by `benchmarks.model_size.count_macs`; bytes = weights + windows
+ logits; rates measured at start: a large fp32 (CPU) or fp16/fp32 (GPU)
matmul, and a large copy). ``x floor`` = median / floor: 1 would be perfect.

Goals (issue #5), checked and printed at the end:
- dste-small, onnxruntime, 2 CPU threads, batch 1: median ≤ 3 ms and ≥ 1.5× faster than torch eager (same run);
- dste-base, tensorrt FP16 on a datacenter GPU: batch 1 ≤ 1 ms, batch 64 ≤ 5 ms.

    .venv/bin/python -m benchmarks.model_latency                                  # CPU: torch + onnxruntime
    .venv/bin/python -m benchmarks.model_latency --variants dste-small --batch 1 4 --runs 300
    .venv/bin/python -m benchmarks.model_latency --backends tensorrt torch-cuda torch-cuda-graphs onnxruntime-cuda
    .venv/bin/python -m benchmarks.model_latency --checkpoint models/checkpoints/actions

Random-initialised checkpoints of each variant are used unless ``--checkpoint``
is given (latency does not depend on the weights' values). ``onnxruntime`` is
the backend as the stream runs it: with 2 threads its two encoder streams run
concurrently, one thread each, nothing spin-waits. ``onnxruntime-one-session``
runs the whole graph in one session on the same threads (intra-op threads sleep
between parallel sections); ``onnxruntime-spin`` is that session with its
threads spin-waiting, ONNX Runtime's own default.

Noise: on a 2-core machine shared with another busy process, OpenMP threads
that spin-wait (libgomp's default, used by torch) make 2-thread torch eager
collapse — dste-small batch 1 took ≈750 ms instead of ≈5 ms here while a
training job ran, and ≈5.7 ms with ``OMP_WAIT_POLICY=PASSIVE`` (set it before
Python starts; the JSON records it). Take reference numbers on a quiet machine;
the load average before and after is printed and recorded.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from benchmarks.machine import machine_info
from benchmarks.results_files import write_results

logger = logging.getLogger(__name__)

RESULTS = Path(__file__).resolve().parent / "results"
# name: (make_backend name, device, uses --precision)
BACKEND_SPECS = {
    "torch": ("torch", "cpu", False),
    "onnxruntime": ("onnxruntime", "cpu", False),
    "onnxruntime-one-session": ("onnxruntime", "cpu", False),  # the whole graph in one session
    "onnxruntime-spin": ("onnxruntime", "cpu", False),  # one session, intra-op threads spin-wait (ORT's default)
    "torch-cuda": ("torch", "cuda", True),
    "torch-cuda-graphs": ("torch", "cuda", True),
    "onnxruntime-cuda": ("onnxruntime", "cuda", False),
    "tensorrt": ("tensorrt", "cuda", True),
}
CPU_GOAL = {"variant": "dste-small", "backend": "onnxruntime", "batch": 1, "max_ms": 3.0, "min_speedup": 1.5}
GPU_GOAL = {"variant": "dste-base", "backend": "tensorrt", "precision": "fp16", "max_ms": {1: 1.0, 64: 5.0}}


@dataclass
class LatencyConfig:
    variants: list[str] = field(default_factory=lambda: ["dste-small", "dste-base"])
    backends: list[str] = field(default_factory=list)  # empty: every one that can run here
    batch: list[int] = field(default_factory=lambda: [1, 4, 16, 64])
    runs: int = 200  # timed runs per cell (dste-small)
    base_runs: int = 10  # timed runs per cell for dste-base
    min_runs: int = 3
    max_seconds: float = 15.0  # per cell: stop timing early past this (keeping min_runs)
    threads: int = 2
    precision: str = "fp16"  # GPU backends that take it
    checkpoint: str | None = None
    json: Path = RESULTS / "model_latency.json"
    plot: Path | None = None  # default: the json path with .png


def available_backends() -> list[str]:
    from foundation.optional import is_available

    names = ["torch"]
    if all(is_available(m) for m in ("onnxruntime", "onnx", "onnxscript")):
        names += ["onnxruntime", "onnxruntime-one-session", "onnxruntime-spin"]
    import torch

    if torch.cuda.is_available():
        names += ["torch-cuda", "torch-cuda-graphs"]
        if is_available("tensorrt"):
            names.append("tensorrt")
        try:
            import onnxruntime

            if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
                names.append("onnxruntime-cuda")
        except ImportError:
            pass
    return names


# --------------------------------------------------------------------------- the machine's floor


def cpu_floor(threads: int) -> dict:
    """Measured fp32 matmul rate (torch, ``threads`` threads, 1024² · 1024²) and copy bandwidth (numpy, 256 MB)."""
    import torch

    torch.set_num_threads(threads)
    a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
    for _ in range(3):
        a @ b
    best = min(_timed(lambda: a @ b) for _ in range(10))
    src = np.ones(32 * 1024 * 1024, np.float64)  # 256 MB
    dst = np.empty_like(src)
    copy = min(_timed(lambda: np.copyto(dst, src)) for _ in range(5))
    return {"device": "cpu", "matmul_gflops_fp32": 2 * 1024**3 / best / 1e9,
            "bandwidth_gbs": 2 * src.nbytes / copy / 1e9}  # fmt: skip


def gpu_floor() -> dict:
    """Measured fp16 and fp32 matmul rates (4096²) and device copy bandwidth (1 GB) of GPU 0."""
    import torch

    out = {"device": torch.cuda.get_device_name(0)}
    for dtype, key in ((torch.float16, "matmul_gflops_fp16"), (torch.float32, "matmul_gflops_fp32")):
        a = torch.randn(4096, 4096, device="cuda", dtype=dtype)
        b = torch.randn(4096, 4096, device="cuda", dtype=dtype)
        out[key] = 2 * 4096**3 / _cuda_timed(lambda: a @ b) / 1e9
    src = torch.empty(256 * 1024 * 1024, device="cuda", dtype=torch.float32)
    dst = torch.empty_like(src)
    out["bandwidth_gbs"] = 2 * src.numel() * 4 / _cuda_timed(lambda: dst.copy_(src)) / 1e9
    return out


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _cuda_timed(fn, repeats: int = 20) -> float:
    import torch

    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    torch.cuda.synchronize()
    return (time.perf_counter() - start) / repeats


def floor_ms(macs: int, params: int, window_bytes: int, logit_bytes: int, batch: int, floor: dict,
             precision: str) -> float:  # fmt: skip
    rate = floor.get(f"matmul_gflops_{precision}") or floor["matmul_gflops_fp32"]
    weight_bytes = params * (2 if precision == "fp16" else 4)
    compute = 2 * macs * batch / (rate * 1e9)
    memory = (weight_bytes + batch * (window_bytes + logit_bytes)) / (floor["bandwidth_gbs"] * 1e9)
    return max(compute, memory) * 1e3


# --------------------------------------------------------------------------- timing


def time_cell(backend, windows: np.ndarray, runs: int, warmup: int, min_runs: int, max_seconds: float) -> dict:
    for _ in range(warmup):
        backend.run(windows)
    times = []
    started = time.perf_counter()
    while len(times) < runs and (len(times) < min_runs or time.perf_counter() - started < max_seconds):
        start = time.perf_counter()
        backend.run(windows)
        times.append((time.perf_counter() - start) * 1e3)
    times.sort()
    p99 = times[min(len(times) - 1, round(0.99 * (len(times) - 1)))]
    median = statistics.median(times)
    return {"median_ms": median, "p99_ms": p99, "min_ms": times[0], "runs": len(times), "warmup": warmup,
            "windows_per_s": windows.shape[0] / (median / 1e3)}  # fmt: skip


def make_checkpoint(variant: str, directory: Path) -> str:
    import torch

    from models.checkpoint import CheckpointConfig, build_model, save_checkpoint
    from models.datasets.utkinect import UTKINECT_ACTIONS
    from models.dste_config import DSTE_VARIANTS, DSTEConfig

    labels = ["background", *UTKINECT_ACTIONS]
    torch.manual_seed(0)
    model = DSTEConfig.from_dict({**DSTE_VARIANTS[variant].to_dict(), "num_classes": len(labels)})
    config = CheckpointConfig(model=model, task="detection", labels=labels, fps=15.0, variant=variant)
    path = directory / variant
    save_checkpoint(path, build_model(config), config)
    return str(path)


def checkpoint_label(config) -> str:
    """A checkpoint's variant name, with its width when it was built at another size than the variant's
    (``stream-train --model '{"dim": 256}'``), so that its rows are never taken for the variant's goal."""
    from models.dste_config import DSTE_VARIANTS

    registered = DSTE_VARIANTS.get(config.variant)
    if registered is not None and (registered.dim, registered.depth) == (config.model.dim, config.model.depth):
        return config.variant
    return f"{config.variant} d={config.model.dim}x{config.model.depth}"


def run(cfg: LatencyConfig) -> dict:
    import torch

    from benchmarks.model_size import count_macs, count_params
    from models.checkpoint import load_checkpoint
    from stream.backends import make_backend

    torch.set_num_threads(cfg.threads)
    backends = cfg.backends or available_backends()
    floors = {"cpu": cpu_floor(cfg.threads)}
    if any(BACKEND_SPECS[b][1] == "cuda" for b in backends):
        floors["cuda"] = gpu_floor()
    load_before = os.getloadavg()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        checkpoints = ({"checkpoint": cfg.checkpoint} if cfg.checkpoint else
                       {v: make_checkpoint(v, work) for v in cfg.variants})  # fmt: skip
        for label, checkpoint in checkpoints.items():
            model, config = load_checkpoint(checkpoint)
            variant = checkpoint_label(config) if cfg.checkpoint else label
            one = torch.zeros(1, *config.model.input_shape)
            macs, params = count_macs(model, one), count_params(model)
            del model
            window_bytes = 4 * int(np.prod(config.model.input_shape))
            logit_bytes = 4 * config.num_frames * config.model.num_classes
            runs = cfg.base_runs if variant == "dste-base" else cfg.runs
            rng = np.random.default_rng(0)
            for name in backends:
                kind, device, takes_precision = BACKEND_SPECS[name]
                precision = cfg.precision if takes_precision else "fp32"
                options = {"device": device, "threads": cfg.threads, "cache_dir": work / "cache"}
                if takes_precision:
                    options["precision"] = precision
                if name == "torch-cuda-graphs":
                    options["cuda_graphs"] = True
                if kind == "tensorrt":
                    options["max_batch"] = max(cfg.batch)
                logger.info("%s: %s (%s) — preparing", variant, name, precision)
                try:
                    if name in ("onnxruntime-one-session", "onnxruntime-spin"):
                        from stream.backends.onnxruntime_backend import OnnxRuntimeBackend

                        backend = OnnxRuntimeBackend(checkpoint, cfg.threads, "cpu", work / "cache",
                                                     spin=name == "onnxruntime-spin", concurrent_streams=False)
                    else:
                        backend = make_backend(kind, checkpoint, **options)
                except Exception as error:  # report and go on: one missing stack must not lose the others
                    logger.error("%s: %s cannot run here: %s", variant, name, error)
                    continue
                for batch in cfg.batch:
                    windows = rng.normal(size=(batch, *config.model.input_shape)).astype(np.float32)
                    cell = time_cell(backend, windows, runs, max(2, runs // 10), cfg.min_runs, cfg.max_seconds)
                    floor = floor_ms(macs, params, window_bytes, logit_bytes, batch,
                                     floors["cuda" if device == "cuda" else "cpu"], precision)  # fmt: skip
                    rows.append({"variant": variant, "backend": name, "device": device, "precision": precision,
                                 "batch": batch, **cell, "floor_ms": floor, "x_floor": cell["median_ms"] / floor,
                                 "macs_per_window": macs, "params": params})  # fmt: skip
                    logger.info("%s %s batch %d: %.2f ms median", variant, name, batch, cell["median_ms"])
                del backend
    return {
        "machine": machine_info(),
        "floor": floors,
        "load_average": {"before": load_before, "after": os.getloadavg()},
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(cfg).items()},
        "env": {k: os.environ.get(k) for k in ("OMP_WAIT_POLICY", "OMP_NUM_THREADS", "MKL_NUM_THREADS")},
        "results": rows,
        "goals": goals(rows),
    }


def _find(rows: list[dict], **match) -> dict | None:
    return next((r for r in rows if all(r.get(k) == v for k, v in match.items())), None)


def goals(rows: list[dict]) -> dict:
    out = {}
    g = CPU_GOAL
    ort = _find(rows, variant=g["variant"], backend=g["backend"], batch=g["batch"])
    eager = _find(rows, variant=g["variant"], backend="torch", batch=g["batch"])
    if ort and eager:
        speedup = eager["median_ms"] / ort["median_ms"]
        out["cpu"] = {"median_ms": ort["median_ms"], "torch_median_ms": eager["median_ms"], "speedup": speedup,
                      "met": ort["median_ms"] <= g["max_ms"] and speedup >= g["min_speedup"],
                      "goal": f"{g['variant']} {g['backend']} batch 1 <= {g['max_ms']} ms and "
                              f">= {g['min_speedup']}x torch eager"}  # fmt: skip
    else:
        out["cpu"] = {"met": None, "goal": "not measured: needs torch and onnxruntime rows of dste-small batch 1"}
    g = GPU_GOAL
    cells = {b: _find(rows, variant=g["variant"], backend=g["backend"], precision=g["precision"], batch=b)
             for b in g["max_ms"]}  # fmt: skip
    if all(cells.values()):
        out["gpu"] = {"median_ms": {b: c["median_ms"] for b, c in cells.items()},
                      "met": all(c["median_ms"] <= g["max_ms"][b] for b, c in cells.items()),
                      "goal": "dste-base tensorrt fp16: batch 1 <= 1 ms, batch 64 <= 5 ms"}  # fmt: skip
    else:
        out["gpu"] = {"met": None, "goal": "not measured: needs tensorrt fp16 rows of dste-base batch 1 and 64"}
    return out


def format_table(rows: list[dict]) -> str:
    head = (f"{'variant':<18} {'backend':<24} {'prec':<5} {'batch':>5} {'median ms':>10} {'p99 ms':>9} "
            f"{'runs':>5} {'windows/s':>10} {'floor ms':>9} {'x floor':>8}")  # fmt: skip
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(f"{r['variant']:<18} {r['backend']:<24} {r['precision']:<5} {r['batch']:>5} "
                     f"{r['median_ms']:>10.2f} {r['p99_ms']:>9.2f} {r['runs']:>5} {r['windows_per_s']:>10.0f} "
                     f"{r['floor_ms']:>9.3f} {r['x_floor']:>8.1f}")  # fmt: skip
    return "\n".join(lines)


def format_goals(report: dict) -> str:
    lines = []
    for name, g in report["goals"].items():
        state = {True: "MET", False: "NOT MET", None: "NOT MEASURED"}[g["met"]]
        detail = ""
        if name == "cpu" and g["met"] is not None:
            detail = (f": {g['median_ms']:.2f} ms vs torch {g['torch_median_ms']:.2f} ms "
                      f"({g['speedup']:.2f}x)")  # fmt: skip
        elif name == "gpu" and g["met"] is not None:
            detail = ": " + ", ".join(f"batch {b}: {ms:.2f} ms" for b, ms in g["median_ms"].items())
        lines.append(f"goal {name} [{g['goal']}]: {state}{detail}")
    return "\n".join(lines)


def plot(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = report["results"]
    variants = list(dict.fromkeys(r["variant"] for r in rows))
    fig, axes = plt.subplots(1, len(variants), figsize=(5.5 * len(variants), 4), squeeze=False)
    for ax, variant in zip(axes[0], variants):
        for backend in dict.fromkeys(r["backend"] for r in rows if r["variant"] == variant):
            cells = [r for r in rows if r["variant"] == variant and r["backend"] == backend]
            ax.plot([c["batch"] for c in cells], [c["median_ms"] for c in cells], marker="o",
                    label=f"{backend} ({cells[0]['precision']})")  # fmt: skip
            ax.plot([c["batch"] for c in cells], [c["floor_ms"] for c in cells], ls=":", color="grey", lw=0.8)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("batch (windows)")
        ax.set_ylabel("median latency per call (ms)")
        ax.set_title(f"{variant} (dotted: machine floor)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    machine = report["machine"]
    load = report["load_average"]["before"][0]
    fig.suptitle(f"{machine['cpu_model']}, {report['settings']['threads']} threads"
                 + (f", {machine['cuda']}" if machine.get("cuda") else "") + f" — load avg {load:.1f} at start",
                 fontsize=9)  # fmt: skip
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def parse_args(argv: list[str] | None = None) -> LatencyConfig:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    d = LatencyConfig()
    parser.add_argument("--variants", nargs="+", default=d.variants, choices=["dste-small", "dste-base"])
    parser.add_argument("--backends", nargs="+", choices=list(BACKEND_SPECS),
                        help="default: every backend that can run here")  # fmt: skip
    parser.add_argument("--batch", nargs="+", type=int, default=d.batch)
    parser.add_argument("--runs", type=int, default=d.runs, help=f"timed runs per cell (default {d.runs})")
    parser.add_argument("--base-runs", type=int, default=d.base_runs, help="timed runs per dste-base cell")
    parser.add_argument("--max-seconds", type=float, default=d.max_seconds, help="time cap per cell")
    parser.add_argument("--threads", type=int, default=d.threads)
    parser.add_argument("--precision", default=d.precision, choices=["fp32", "fp16"], help="GPU backends")
    parser.add_argument("--checkpoint", help="time this checkpoint instead of random-initialised variants")
    parser.add_argument("--json", type=Path, default=d.json)
    parser.add_argument("--plot", type=Path, help="the figure (default: the --json path with .png)")
    args = parser.parse_args(argv)
    return LatencyConfig(variants=args.variants, backends=args.backends or [], batch=args.batch, runs=args.runs,
                         base_runs=args.base_runs, max_seconds=args.max_seconds, threads=args.threads,
                         precision=args.precision, checkpoint=args.checkpoint, json=args.json,
                         plot=args.plot)  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for noisy in ("onnx_ir", "onnxscript", "models.export.onnx_export", "stream.backends.onnxruntime_backend"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    cfg = parse_args(argv)
    report = run(cfg)
    m, f = report["machine"], report["floor"]["cpu"]
    load = report["load_average"]
    print(f"\n{m['cpu_model']} | {m['logical_cpus']} CPUs | {cfg.threads} threads | torch {m['torch']}"
          + (f" | {m['cuda']}" if m.get("cuda") else ""))  # fmt: skip
    print(f"floor: CPU fp32 matmul {f['matmul_gflops_fp32']:.0f} GFLOP/s, copy {f['bandwidth_gbs']:.1f} GB/s"
          + "".join(f"; GPU fp16 {g['matmul_gflops_fp16']:.0f} / fp32 {g['matmul_gflops_fp32']:.0f} GFLOP/s, "
                    f"{g['bandwidth_gbs']:.0f} GB/s" for g in [report["floor"].get("cuda")] if g))  # fmt: skip
    print(f"load average (1 min) {load['before'][0]:.2f} before, {load['after'][0]:.2f} after; "
          f"OMP_WAIT_POLICY={report['env']['OMP_WAIT_POLICY']}")  # fmt: skip
    print(format_table(report["results"]))
    print(format_goals(report))
    write_results(cfg.json, report, lambda path: plot(report, path), cfg.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
