"""`stream-export`: a checkpoint → ONNX (checked against torch), and optionally → a TensorRT engine.

Examples::

    stream-export --checkpoint actions --output dste-small.onnx       # a shipped checkpoint by name, or a directory
    stream-export --checkpoint actions --into-checkpoint     # CKPT/model.onnx: what a runtime without torch runs
    # on an NVIDIA GPU with TensorRT (desktop: pip install skelstream[tensorrt]; Jetson: JetPack's python3-libnvinfer)
    stream-export --checkpoint CKPT --output dste.onnx --tensorrt --fp16 --max-batch 64
    stream-export --checkpoint CKPT --output dste.onnx --tensorrt --int8 --calib-data utkinect:1,2
    # static INT8 (QDQ) with ONNX Runtime's tooling, calibrated on the checkpoint's training data → dste.int8.onnx
    stream-export --checkpoint CKPT --output dste.onnx --opset 20 --quantize int8
    stream-export --checkpoint CKPT --output dste.onnx --quantize int8 --tensorrt --int8   # TensorRT takes its scales
    stream-run --backend onnxruntime --checkpoint dste-small.onnx          # or the checkpoint directory itself
    stream-run --backend tensorrt --checkpoint dste.fp16.b64.<key>.engine

The ONNX file carries the checkpoint config as metadata, has a dynamic batch
(T, V, M are fixed by the model), passes the onnx checker and is compared
with the eager model on ONNX Runtime before it is kept. ``--into-checkpoint``
writes it into the checkpoint directory as ``model.onnx`` (ONNX Runtime's
opset; the comparison with torch is required): ``stream-run --backend
onnxruntime`` (and ``auto``) then runs the checkpoint without importing torch,
as on a robot with only the ``runtime`` extra installed; re-run it whenever
the weights change (a stale model.onnx is ignored, with a warning). ``--tensorrt`` builds
the engine next to it, named by a key of GPU, compute capability, TensorRT
version, precision, batch and the ONNX's hash; a sidecar ``.engine.json``
holds the key and the config, so an engine built elsewhere is refused at load.

Exit codes: 0 on success; 2 with one line on stderr when the checkpoint, the
calibration data or an optional package is missing or wrong, or the export or
build fails.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from foundation.errors import SkelstreamError

logger = logging.getLogger("stream-export")


def build_parser() -> argparse.ArgumentParser:
    from models.export.onnx_export import DEFAULT_OPSET, ONNXRUNTIME_OPSET, RUNTIME_ONNX

    parser = argparse.ArgumentParser(prog="stream-export", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--checkpoint", required=True,
                        help="a shipped checkpoint's name (actions, gestures) or a checkpoint directory "
                             "(config.json + model.safetensors)")
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--output", help="the .onnx file to write")
    target.add_argument("--into-checkpoint", action="store_true",
                        help=f"write the checkpoint directory's own {RUNTIME_ONNX} (opset {ONNXRUNTIME_OPSET}, "
                             "verified against torch): what stream-run runs without torch (the runtime extra)")
    parser.add_argument("--opset", type=int, help=f"ONNX opset (default {DEFAULT_OPSET}, which TensorRT 10 reads; "
                        f"{ONNXRUNTIME_OPSET} runs faster on ONNX Runtime; --into-checkpoint: {ONNXRUNTIME_OPSET})")
    parser.add_argument("--no-verify", action="store_true", help="skip the ONNX Runtime vs torch comparison")
    parser.add_argument("--quantize", choices=("int8",),
                        help="also write a static INT8 QDQ graph beside the ONNX (NAME.int8.onnx), calibrated on "
                             "--calib-data (default: the checkpoint's training data); runs on ONNX Runtime "
                             "(stream-run --precision int8) and is what a TensorRT --int8 build then takes")
    calib = parser.add_argument_group("INT8 calibration (--quantize int8, --tensorrt --int8)")
    calib.add_argument("--calib-data", help="real windows: a dataset NAME[:SUBJECTS] (e.g. utkinect:1,2) or an .npy "
                                            "of (N, C, T, V, M) windows")  # fmt: skip
    calib.add_argument("--data-root", help="root of the datasets (default $SKELSTREAM_DATA or ../shared/data)")
    calib.add_argument("--calib-windows", type=int, default=512, help="at most this many windows (default 512)")
    trt = parser.add_argument_group("TensorRT (needs an NVIDIA GPU and the tensorrt extra)")
    trt.add_argument("--tensorrt", action="store_true", help="also build a TensorRT engine next to the ONNX")
    trt.add_argument("--fp16", action="store_true", help="FP16 engine (default FP32)")
    trt.add_argument("--int8", action="store_true", help="INT8 engine (FP16 fallback): from the --quantize int8 "
                                                         "graph's scales, else calibrated on --calib-data")
    trt.add_argument("--calib-cache", type=Path, help="INT8 calibration cache (default next to the engine)")
    trt.add_argument("--max-batch", type=int, default=64, help="largest batch the engine accepts (default 64)")
    trt.add_argument("--opt-batch", type=int, default=1, help="batch the kernels are tuned for (default 1)")
    trt.add_argument("--workspace-gb", type=float, default=4.0, help="builder workspace limit (default 4)")
    trt.add_argument("--device", default="cuda:0", help="GPU to build for (default cuda:0)")
    return parser


def run(args: argparse.Namespace) -> int:
    from models.checkpoint import read_config
    from models.export.onnx_export import DEFAULT_OPSET, ONNXRUNTIME_OPSET, RUNTIME_ONNX, export_onnx
    from models.pretrained import resolve_checkpoint

    if (args.fp16 or args.int8) and not args.tensorrt:
        raise ValueError("--fp16 and --int8 shape a TensorRT engine: add --tensorrt (or --quantize int8 for ONNX)")
    if args.calib_data and not (args.quantize or args.int8):
        raise ValueError("--calib-data calibrates INT8: add --quantize int8 or --tensorrt --int8")
    if args.int8 and not (args.quantize or args.calib_data or (args.calib_cache and args.calib_cache.is_file())):
        raise ValueError("--int8 needs --quantize int8, --calib-data (e.g. utkinect:1,2) or an existing --calib-cache")
    if args.max_batch < 1 or not 1 <= args.opt_batch <= args.max_batch:
        raise ValueError(f"need 1 <= --opt-batch <= --max-batch, got {args.opt_batch} and {args.max_batch}")
    args.checkpoint = str(resolve_checkpoint(args.checkpoint))
    config = read_config(args.checkpoint)  # a bad checkpoint fails here, before anything slow
    if args.into_checkpoint:
        if args.no_verify or args.opset not in (None, ONNXRUNTIME_OPSET):
            raise ValueError(f"--into-checkpoint writes the checkpoint's own {RUNTIME_ONNX}, verified against torch "
                             f"at opset {ONNXRUNTIME_OPSET}: leave out --no-verify and --opset")  # fmt: skip
        args.output, args.opset = str(Path(args.checkpoint) / RUNTIME_ONNX), ONNXRUNTIME_OPSET
    elif args.opset is None:
        args.opset = DEFAULT_OPSET
    device_index = 0
    if args.tensorrt:
        from models.export.tensorrt_build import require_tensorrt

        require_tensorrt()  # fail in a second, not after the export
        kind, _, index = args.device.partition(":")
        if kind != "cuda" or (index and not index.isdigit()):
            raise ValueError(f"--device must be cuda or cuda:N, got {args.device!r}")
        device_index = int(index or 0)
    calib, calib_source = None, args.calib_data
    if args.quantize or (args.tensorrt and args.int8 and args.calib_data):
        from models.export.calibration import calibration_windows
        from models.export.quantize import training_calibration_source

        calib_source = calib_source or training_calibration_source(config)
        if calib_source is None:
            raise ValueError(f"{args.checkpoint} records no training data to calibrate on: give --calib-data")
        calib = calibration_windows(calib_source, config, args.data_root, max_windows=args.calib_windows)
        logger.info("INT8 calibration: %d real windows from %s", len(calib), calib_source)

    result = export_onnx(args.checkpoint, args.output, opset=args.opset, verify=not args.no_verify)
    if args.into_checkpoint and result.max_abs_error is None:
        Path(result.path).unlink()
        raise ValueError(f"--into-checkpoint needs ONNX Runtime to verify {result.path} against torch: "
                         "pip install skelstream[onnx]")  # fmt: skip
    batches = ", ".join(map(str, result.verified_batches))
    check = ("not compared with torch" if result.max_abs_error is None else
             f"max |onnx - torch| {result.max_abs_error:.2g} on batches {batches}")  # fmt: skip
    window = ", ".join(map(str, result.config.model.input_shape))
    print(f"wrote {result.path} ({result.config.variant}, {result.nodes} nodes, opset {result.opset}, "
          f"input (N, {window}), {check}) in {result.seconds:.1f} s")  # fmt: skip
    engine_source = result.path
    if args.quantize:
        from models.export.quantize import quantize_onnx

        quantized = quantize_onnx(result.path, result.path.with_suffix(".int8.onnx"), calib, calib_source)
        print(f"wrote {quantized.path} (static INT8, QDQ, {quantized.quantized_nodes} quantised tensors, calibrated "
              f"on {quantized.windows} windows of {calib_source}) in {quantized.seconds:.1f} s")  # fmt: skip
        engine_source, calib = (quantized.path, None) if args.int8 else (engine_source, calib)
    if args.tensorrt:
        from models.export.tensorrt_build import EngineOptions, build_engine, current_key, engine_path_for

        precision = "int8" if args.int8 else "fp16" if args.fp16 else "fp32"
        options = EngineOptions(precision=precision, max_batch=args.max_batch, opt_batch=args.opt_batch,
                                workspace_gb=args.workspace_gb, calib_windows=calib, calib_cache=args.calib_cache,
                                calib_source=calib_source)  # fmt: skip
        key = current_key(engine_source, options, device_index)
        engine = build_engine(engine_source, options, output=engine_path_for(engine_source, key),
                              device_index=device_index)  # fmt: skip
        print(f"wrote {engine} and {engine.name}.json ({precision}, batch 1..{args.max_batch}, {key.gpu}, "
              f"TensorRT {key.tensorrt})")  # fmt: skip
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        return run(args)
    except (SkelstreamError, OSError, ValueError) as error:
        message = " ".join(str(error).split())
        print(f"stream-export: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
