"""Size, compute and CPU latency of every registered DSTE variant.

For each variant: parameters (encoder alone and with the dense head), MACs per
window (counted with ``torch.utils.flop_counter.FlopCounterMode``, MACs =
FLOPs / 2: matmuls, linears and convolutions; norms and activations are not
counted) and eager CPU latency per window (median and p99 over ``--runs``
timed runs after ``--warmup``, ``torch.set_num_threads(--threads)``). A
"paper shape" row counts dste-base on NTU windows (kinect_v2_25: V=25, M=2)
to cross-check DESIGN.md §3 (≈57 M parameters, ≈6.2 GMAC).

    .venv/bin/python -m benchmarks.model_size
    .venv/bin/python -m benchmarks.model_size --variants dste-small --frame-features all --batch 1 4
    .venv/bin/python -m benchmarks.model_size --runs 100 --json /tmp/model_size.json
"""

from __future__ import annotations

import argparse
import logging
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

from benchmarks.machine import machine_info
from benchmarks.results_files import write_results
from models.dste import DSTEDetector, create_model
from models.dste_config import DSTE_VARIANTS, FRAME_FEATURES

logger = logging.getLogger(__name__)

DEFAULT_JSON = Path(__file__).resolve().parent / "results" / "model_size.json"
PAPER_SHAPE = dict(layout="kinect_v2_25")  # NTU windows: V=25, M=2, T=64
DESIGN_BASE = {"params_M": 57.0, "GMAC": 6.2}


@dataclass
class BenchConfig:
    variants: list[str] = field(default_factory=lambda: list(DSTE_VARIANTS))
    frame_features: list[str] = field(default_factory=list)  # empty: each variant's default
    batch: list[int] = field(default_factory=lambda: [1])
    runs: int = 50
    warmup: int = 10
    threads: int = 2
    json: Path = DEFAULT_JSON
    paper_shape: bool = True


def count_params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def count_macs(module: torch.nn.Module, x: torch.Tensor) -> int:
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        module(x)
    return counter.get_total_flops() // 2


def latency_ms(model: DSTEDetector, x: torch.Tensor, runs: int, warmup: int) -> dict:
    times = []
    with torch.inference_mode():
        for _ in range(warmup):
            model(x)
        for _ in range(runs):
            start = time.perf_counter()
            model(x)
            times.append((time.perf_counter() - start) * 1e3)
    times.sort()
    p99 = times[min(len(times) - 1, round(0.99 * (len(times) - 1)))]
    return {"median_ms": statistics.median(times), "p99_ms": p99, "min_ms": times[0], "runs": runs}


def measure(name: str, model: DSTEDetector, batches: list[int], cfg: BenchConfig, time_it: bool = True) -> dict:
    model.eval()
    one = torch.randn(1, *model.cfg.input_shape)
    row = {
        "variant": name,
        "config": model.cfg.to_dict(),
        "encoder_params": count_params(model.encoder),
        "params": count_params(model),
        "encoder_macs": count_macs(model.encoder, one),
        "macs": count_macs(model, one),
        "latency": {},
    }
    if time_it:
        for n in batches:
            x = torch.randn(n, *model.cfg.input_shape)
            row["latency"][str(n)] = latency_ms(model, x, cfg.runs, cfg.warmup)
    return row


def format_table(rows: list[dict]) -> str:
    head = (
        f"{'variant':<34} {'layout':<13} {'frame_feature':<22} {'enc params':>11} {'params':>9} "
        f"{'enc GMAC':>9} {'GMAC':>7} {'batch':>5} {'median ms':>10} {'p99 ms':>8}"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        c = r["config"]
        base = (
            f"{r['variant']:<34} {c['layout']:<13} {c['frame_feature']:<22} "
            f"{r['encoder_params'] / 1e6:>10.2f}M {r['params'] / 1e6:>8.2f}M "
            f"{r['encoder_macs'] / 1e9:>9.3f} {r['macs'] / 1e9:>7.3f}"
        )
        if not r["latency"]:
            lines.append(f"{base} {'-':>5} {'-':>10} {'-':>8}")
        for n, lat in r["latency"].items():
            lines.append(f"{base} {n:>5} {lat['median_ms']:>10.2f} {lat['p99_ms']:>8.2f}")
    return "\n".join(lines)


def run(cfg: BenchConfig) -> dict:
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(0)
    rows = []
    for variant in cfg.variants:
        features = cfg.frame_features or [DSTE_VARIANTS[variant].frame_feature]
        for feature in features:
            model = create_model(variant, frame_feature=feature)
            name = variant if feature == DSTE_VARIANTS[variant].frame_feature else f"{variant} [{feature}]"
            logger.info("measuring %s", name)
            rows.append(measure(name, model, cfg.batch, cfg))
    check = None
    if cfg.paper_shape and "dste-base" in cfg.variants:
        model = create_model("dste-base", **PAPER_SHAPE)
        row = measure("dste-base (paper shape)", model, cfg.batch, cfg, time_it=False)
        rows.append(row)
        check = {
            "design": DESIGN_BASE,
            "measured_encoder_params_M": row["encoder_params"] / 1e6,
            "measured_encoder_GMAC": row["encoder_macs"] / 1e9,
        }
    return {
        "machine": machine_info(),
        "settings": {"runs": cfg.runs, "warmup": cfg.warmup, "threads": cfg.threads, "batch": cfg.batch},
        "mac_counting": "torch.utils.flop_counter.FlopCounterMode, MACs = FLOPs / 2 (matmul, linear, conv)",
        "results": rows,
        "design_check": check,
    }


def parse_args(argv: list[str] | None = None) -> BenchConfig:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variants", nargs="+", default=list(DSTE_VARIANTS), choices=list(DSTE_VARIANTS))
    parser.add_argument(
        "--frame-features", nargs="+", default=[], help=f"'all' or some of {FRAME_FEATURES}; default: the variant's"
    )
    parser.add_argument("--batch", nargs="+", type=int, default=[1], help="batch sizes to time")
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON)
    parser.add_argument("--no-paper-shape", action="store_true", help="skip the dste-base NTU-shape cross-check row")
    args = parser.parse_args(argv)
    features = list(FRAME_FEATURES) if args.frame_features == ["all"] else args.frame_features
    for f in features:
        if f not in FRAME_FEATURES:
            parser.error(f"unknown frame feature {f!r}; expected one of {FRAME_FEATURES} or 'all'")
    return BenchConfig(
        variants=args.variants,
        frame_features=features,
        batch=args.batch,
        runs=args.runs,
        warmup=args.warmup,
        threads=args.threads,
        json=args.json,
        paper_shape=not args.no_paper_shape,
    )


def main(argv: list[str] | None = None) -> dict:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    cfg = parse_args(argv)
    report = run(cfg)
    m = report["machine"]
    print(f"{m['cpu_model']} | {m['platform']} | torch {m['torch']} | {m['torch_threads']} threads")
    print(format_table(report["results"]))
    if report["design_check"]:
        c = report["design_check"]
        print(
            f"dste-base encoder on NTU windows: {c['measured_encoder_params_M']:.1f} M params "
            f"(DESIGN ≈{DESIGN_BASE['params_M']}), "
            f"{c['measured_encoder_GMAC']:.2f} GMAC (DESIGN ≈{DESIGN_BASE['GMAC']})"
        )
    write_results(cfg.json, report)
    return report


if __name__ == "__main__":
    main()
