"""The error types skelstream raises on purpose; each carries a message meant for the user.

Commands catch `SkelstreamError`, print its message on one line and exit 2 (cannot
start) or 1 (failed mid-run). Errors of one module's own concern live beside it and
derive from `SkelstreamError` too: `foundation.config_files.ConfigError`,
`foundation.output_files.OutputError`, `foundation.optional.MissingDependencyError`,
`models.checkpoint.CheckpointError`, `models.export.ExportError`.
"""

from __future__ import annotations

from pathlib import Path


class SkelstreamError(Exception):
    """Base class of every error skelstream raises on purpose."""


class DataFormatError(SkelstreamError, ValueError):
    """A data file is malformed; the message names the file and, where known, the line."""

    def __init__(self, path: str | Path, message: str, line: int | None = None) -> None:
        self.path = str(path)
        self.line = line
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {message}")


class CalibrationError(SkelstreamError):
    """Calibration cannot proceed: bad input files, too few usable views, no board found, ..."""


class SourceError(SkelstreamError):
    """A source cannot be opened or stopped delivering (no camera, unreadable video, bad recording)."""


class PoseModelError(SkelstreamError):
    """The pose model is missing, cannot be prepared, or fails to load."""


class PublisherError(SkelstreamError):
    """A publisher cannot start (bad endpoint, address in use, unwritable output)."""


class MessageError(SkelstreamError):
    """A received payload does not follow the message schema."""


class KeyFileError(SkelstreamError):
    """A CURVE key file or client key folder is missing, unreadable or malformed."""
