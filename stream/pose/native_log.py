"""Keeping the informational chatter of native libraries (MediaPipe, TFLite, absl) off the terminal.

    with NativeLogFilter():     # stream-run without --verbose, when MediaPipe runs
        ...                     # "W0000 00:00:... inference_feedback_manager.cc:121] ..." no longer shows

MediaPipe's C++ code logs through absl and TFLite straight to file descriptor
2; no environment variable of the 1.x wheel silences it (``GLOG_minloglevel``,
``TF_CPP_MIN_LOG_LEVEL`` and ``ABSL_MIN_LOG_LEVEL`` were tried). So the filter
points descriptor 2 at a pipe and a thread copies every line to the real
stderr except informational and warning lines in those libraries' formats
(`NOISE`); their errors (``E…``/``F…`` lines) and everything Python writes
still come through, in order. Leaving the block restores descriptor 2 and
copies what is left in the pipe.
"""

from __future__ import annotations

import os
import re
import sys
import threading

NOISE = re.compile(
    rb"^(?:[IW]\d{4} [\d:. ]+\s+\d+ \S+:\d+\] "  # absl/glog INFO and WARNING lines: "W0000 00:00:17.8  9144 x.cc:121] "
    rb"|INFO: Created TensorFlow Lite .*delegate"  # TFLite's banner
    rb"|WARNING: Logging before InitGoogle\(\) is written to STDERR)"
)


class NativeLogFilter:
    """While entered, drop native libraries' INFO and WARNING lines from stderr (file descriptor 2)."""

    def __init__(self) -> None:
        self.dropped = 0
        self._saved: int | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> NativeLogFilter:
        sys.stderr.flush()
        read_end, write_end = os.pipe()
        self._saved = os.dup(2)
        os.dup2(write_end, 2)
        os.close(write_end)
        self._thread = threading.Thread(target=self._copy, args=(read_end, self._saved), name="native-log-filter",
                                        daemon=True)  # fmt: skip
        self._thread.start()
        return self

    def _copy(self, read_end: int, out: int) -> None:
        with os.fdopen(read_end, "rb", buffering=0) as pipe:
            pending = b""
            while chunk := pipe.read(65536):
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    self._forward(line + b"\n", out)
            if pending:
                self._forward(pending, out)

    def _forward(self, line: bytes, out: int) -> None:
        if NOISE.match(line):
            self.dropped += 1
            return
        view = memoryview(line)
        while view:
            view = view[os.write(out, view) :]

    def __exit__(self, *exc: object) -> None:
        sys.stderr.flush()
        assert self._saved is not None and self._thread is not None
        os.dup2(self._saved, 2)  # the pipe's last write end closes: the copying thread reads to its end
        self._thread.join(timeout=5)
        os.close(self._saved)
        self._saved = None
