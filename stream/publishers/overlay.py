"""Annotated video: skeleton bones, track ids, current labels and latency drawn with OpenCV.

    with Overlay(show=False, output="annotated.mp4", fps=source.fps) as overlay:
        for frame, tracked, labels in stream:        # labels: track id -> latest FrameLabel
            overlay.update(frame, tracked, labels)

The video is written at ``fps`` (give the source's rate, or it plays too fast
or too slow) under a temporary name beside ``output``
(``annotated.partial-XXXXXX.mp4``) and renamed into place by `close`
(`foundation.output_files`); `discard` drops it instead.

Camera frames are drawn on; skeleton-only sources (synthetic, Kinect/NTU
replays) have no image, so their people are drawn on a blank canvas, the 3D
joints projected orthographically as seen from the sensor (camera frame: x to
the sensor's left, y up, so image right is -x and image down is -y). The
view is fitted to the first frame that has people and then kept, so the
picture does not jump as people move.

OpenCV comes with the ``pose`` extra (mediapipe brings opencv-contrib-python);
it is imported when an Overlay is made, and ``show=True`` also needs a GUI
build and a display: both are checked up front, with a PublisherError that
says what is missing, because a GUI-less OpenCV or a Qt build without a
display fails later (or aborts the process) rather than raising.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from foundation.errors import PublisherError
from foundation.optional import require
from foundation.output_files import OutputError, StagedOutput
from stream.types import Frame, FrameLabel, TrackedPerson


PALETTE = (  # BGR, one per track id (modulo)
    (80, 200, 255), (255, 160, 60), (120, 230, 120), (200, 120, 255), (60, 220, 220),
    (255, 100, 160), (160, 160, 255), (100, 180, 100), (230, 230, 90), (180, 120, 60),
)  # fmt: skip
FOURCC_BY_SUFFIX = {".mp4": "mp4v", ".m4v": "mp4v", ".mov": "mp4v", ".avi": "MJPG"}
MIN_CONFIDENCE = 0.1  # joints below this are missing: no bone is drawn to them
VIEW_HEIGHT_M = 2.6  # metres of the scene the canvas shows vertically


def _cv2() -> Any:
    """OpenCV, which draws the overlay (the pose extra: mediapipe brings opencv-contrib-python)."""
    return require("cv2", extra="pose", what="the overlay", pip_name="opencv-contrib-python")


def track_color(track_id: int) -> tuple[int, int, int]:
    return PALETTE[track_id % len(PALETTE)]


def draw_skeleton(
    image: np.ndarray,
    points: np.ndarray,
    confidence: np.ndarray,
    bones: tuple[tuple[int, int], ...],
    color: tuple[int, int, int],
    min_confidence: float = MIN_CONFIDENCE,
) -> None:
    """Draw ``bones`` (child, parent index pairs) between the pixel ``points`` (V, 2) present in both ends."""
    cv2 = _cv2()
    present = (np.asarray(confidence) >= min_confidence) & np.isfinite(points).all(axis=1)
    pixels = np.round(np.nan_to_num(points)).astype(np.int32)
    thickness = max(1, round(min(image.shape[:2]) / 240))
    for child, parent in bones:
        if present[child] and present[parent]:
            cv2.line(image, tuple(map(int, pixels[child])), tuple(map(int, pixels[parent])), color, thickness,
                     cv2.LINE_AA)  # fmt: skip
    for point in pixels[present]:
        cv2.circle(image, tuple(map(int, point)), thickness + 1, color, -1, cv2.LINE_AA)


def draw_text(image: np.ndarray, text: str, origin: tuple[int, int], color: tuple[int, int, int]) -> None:
    """Text with a dark background box so it reads on any image."""
    cv2 = _cv2()
    scale = max(0.4, min(image.shape[:2]) / 960)
    (width, height), baseline = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    x = int(np.clip(origin[0], 0, max(0, image.shape[1] - width - 4)))
    y = int(np.clip(origin[1], height + 4, image.shape[0] - baseline - 2))
    cv2.rectangle(image, (x, y - height - 4), (x + width + 4, y + baseline + 2), (0, 0, 0), -1)
    cv2.putText(image, text, (x + 2, y), cv2.FONT_HERSHEY_SIMPLEX, scale, color, 1, cv2.LINE_AA)


def label_text(track_id: int, label: FrameLabel | None) -> str:
    if label is None:
        return f"#{track_id}"
    return f"#{track_id} {label.label} {label.score:.2f}  {label.latency_ns / 1e6:.0f} ms"


class OrthographicView:
    """Camera-frame metres (x left, y up) → canvas pixels, fitted once to the first people seen."""

    def __init__(self, width: int, height: int, view_height_m: float = VIEW_HEIGHT_M) -> None:
        self.width, self.height = width, height
        self.scale = height / view_height_m  # pixels per metre
        self.centre: np.ndarray | None = None  # (x, y) metres at the canvas centre

    def fit(self, joints: list[np.ndarray], confidence: list[np.ndarray]) -> None:
        valid = [j[(c >= MIN_CONFIDENCE) & np.isfinite(j).all(axis=1), :2] for j, c in zip(joints, confidence)]
        points = np.concatenate(valid) if valid else np.empty((0, 2))
        if len(points):
            self.centre = (points.min(axis=0) + points.max(axis=0)) / 2

    def project(self, joints: np.ndarray) -> np.ndarray:
        centre = self.centre if self.centre is not None else np.zeros(2)
        u = self.width / 2 - (joints[:, 0] - centre[0]) * self.scale
        v = self.height / 2 - (joints[:, 1] - centre[1]) * self.scale
        return np.stack([u, v], axis=1)


class Overlay:
    """Draws each frame's people and labels, and shows and/or writes the result.

    Args:
        show: open a window (cv2.imshow); needs a GUI build of OpenCV and a display.
        output: write an annotated video here (.mp4/.m4v/.mov: mp4v; .avi: MJPG).
        fps: frame rate of the written video: the source's, so that it plays at the speed it was captured.
        canvas_size: (width, height) of the blank canvas for frames without an image.
        frame_size: (width, height) of the camera images when known; otherwise the
            writer takes the size of the first frame. Later frames of another size
            are resized to it.

    Raises:
        MissingDependencyError: OpenCV missing.
        PublisherError: ``show`` without GUI or display, or ``output``
            not writable (checked here, before the stream starts).
    """

    DEFAULT_FPS = 30.0  # for a source that does not know its rate

    def __init__(
        self,
        show: bool = False,
        output: str | os.PathLike | None = None,
        fps: float = DEFAULT_FPS,
        canvas_size: tuple[int, int] = (640, 480),
        frame_size: tuple[int, int] | None = None,
        window_name: str = "skelstream",
    ) -> None:
        if fps <= 0:
            raise ValueError(f"fps must be positive, got {fps}")
        self._cv2 = _cv2()
        self.show = show
        self.output = Path(output) if output is not None else None
        self.fps = float(fps)
        self.canvas_size = canvas_size
        self.window_name = window_name
        self.view = OrthographicView(*canvas_size)
        self.frames_written = 0
        self.stop_requested = False  # the window was closed, or q / Esc pressed
        self._writer = None
        self._writer_size = frame_size or canvas_size
        self._window_open = False
        self._staged: StagedOutput | None = None
        if show:
            self._open_window()
        if self.output is not None:
            try:
                if self.output.suffix.lower() not in FOURCC_BY_SUFFIX:
                    raise PublisherError(f"cannot write video {self.output}: unknown extension; use one of "
                                         f"{', '.join(FOURCC_BY_SUFFIX)}")  # fmt: skip
                self._staged = StagedOutput(self.output)
                self._open_writer(self._writer_size)
            except (PublisherError, OutputError) as error:
                self.discard()
                raise PublisherError(str(error)) from None

    # --- setup ------------------------------------------------------------------------
    def _open_window(self) -> None:
        cv2 = self._cv2
        gui = re.search(r"GUI:\s*(\S+)", cv2.getBuildInformation())
        if gui and gui.group(1).upper() == "NONE":
            raise PublisherError("--show needs a GUI build of OpenCV and a display; this OpenCV has no GUI "
                                 "(a headless build): use --output annotated.mp4 instead")  # fmt: skip
        if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
            raise PublisherError("--show needs a display: neither DISPLAY nor WAYLAND_DISPLAY is set "
                                 "(run it on a desktop or over ssh -X, or use --output annotated.mp4)")  # fmt: skip
        try:
            cv2.namedWindow(self.window_name, cv2.WINDOW_NORMAL)
        except cv2.error as error:
            raise PublisherError(f"--show needs a display: OpenCV cannot open a window ({error})") from None
        self._window_open = True

    def _open_writer(self, size: tuple[int, int]) -> None:
        cv2 = self._cv2
        fourcc = FOURCC_BY_SUFFIX.get(self.output.suffix.lower())
        if fourcc is None:
            raise PublisherError(f"cannot write video {self.output}: unknown extension; use one of "
                                 f"{', '.join(FOURCC_BY_SUFFIX)}")  # fmt: skip
        if self._writer is not None:
            self._writer.release()
        assert self._staged is not None
        writer = cv2.VideoWriter(str(self._staged.path), cv2.VideoWriter_fourcc(*fourcc), self.fps, tuple(size))
        if not writer.isOpened():
            raise PublisherError(f"cannot write video {self.output}: OpenCV could not open "
                                 f"{self._staged.path} for writing")  # fmt: skip
        self._writer, self._writer_size = writer, tuple(size)

    # --- drawing ----------------------------------------------------------------------
    def _points(self, person: Any, layout_dims: int, on_canvas: bool) -> np.ndarray:
        if person.image_points is not None and not on_canvas:
            return np.asarray(person.image_points, dtype=np.float64)
        joints = np.asarray(person.joints, dtype=np.float64)
        if layout_dims == 2:
            return joints[:, :2]
        return self.view.project(joints)

    def render(
        self, frame: Frame, tracked: list[TrackedPerson], labels: Mapping[int, FrameLabel] | None = None
    ) -> np.ndarray:
        """The annotated BGR image of ``frame`` (a blank canvas when it has no image); shows and writes nothing."""
        from models.skeleton.layouts import get_layout

        labels = labels or {}
        on_canvas = frame.image is None
        if on_canvas:
            width, height = self.canvas_size
            image = np.full((height, width, 3), 24, dtype=np.uint8)
        else:
            image = np.ascontiguousarray(frame.image).copy()
        needs_view = [t.person for t in tracked if t.person.image_points is None or on_canvas]
        if self.view.centre is None and needs_view:
            self.view.fit([np.asarray(p.joints, dtype=np.float64) for p in needs_view],
                          [np.asarray(p.confidence, dtype=np.float64) for p in needs_view])  # fmt: skip
        for t in tracked:
            layout = get_layout(t.person.layout)
            points = self._points(t.person, layout.dims, on_canvas)
            confidence = np.asarray(t.person.confidence, dtype=np.float64)
            color = track_color(t.track_id)
            draw_skeleton(image, points, confidence, layout.bones, color)
            present = points[(confidence >= MIN_CONFIDENCE) & np.isfinite(points).all(axis=1)]
            if len(present):
                anchor = (int(present[:, 0].min()), int(present[:, 1].min()) - 8)
                draw_text(image, label_text(t.track_id, labels.get(t.track_id)), anchor, color)
        draw_text(image, f"frame {frame.index}  {len(tracked)} tracked", (4, 0), (230, 230, 230))
        return image

    def update(
        self, frame: Frame, tracked: list[TrackedPerson], labels: Mapping[int, FrameLabel] | None = None
    ) -> np.ndarray:
        """Render ``frame``, show it and append it to the video; returns the annotated image."""
        image = self.render(frame, tracked, labels)
        if self._writer is not None:
            self.write(image)
        if self._window_open:
            cv2 = self._cv2
            cv2.imshow(self.window_name, image)
            key = cv2.waitKey(1) & 0xFF
            closed = cv2.getWindowProperty(self.window_name, cv2.WND_PROP_VISIBLE) < 1
            if key in (ord("q"), 27) or closed:
                self.stop_requested = True
        return image

    def write(self, image: np.ndarray) -> None:
        """Append one BGR image to the video (the first one fixes the size; later ones are resized to it)."""
        if self._writer is None:
            raise PublisherError("this overlay writes no video (output=None)")
        size = (image.shape[1], image.shape[0])
        if size != self._writer_size:
            if self.frames_written == 0:
                self._open_writer(size)
            else:
                image = self._cv2.resize(image, self._writer_size, interpolation=self._cv2.INTER_AREA)
        self._writer.write(np.ascontiguousarray(image, dtype=np.uint8))
        self.frames_written += 1

    # --- lifetime ---------------------------------------------------------------------
    def close(self) -> None:
        """Finish the video file, move it into place and close the window; safe to call twice.

        Raises `OutputError` when the finished video cannot be moved into place."""
        self._release()
        if self._staged is not None:
            staged, self._staged = self._staged, None
            staged.commit()

    def discard(self) -> None:
        """Close without keeping the video (an existing file at ``output`` stays as it was); safe to call twice."""
        self._release()
        if self._staged is not None:
            staged, self._staged = self._staged, None
            staged.discard()

    def _release(self) -> None:
        if self._writer is not None:
            self._writer.release()
            self._writer = None
        if self._window_open:
            self._cv2.destroyWindow(self.window_name)
            self._window_open = False

    def __enter__(self) -> Overlay:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
