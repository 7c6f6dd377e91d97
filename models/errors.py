"""Exception types raised by skelstream's data and model code."""

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
