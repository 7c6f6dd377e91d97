"""Command-line entry points of the model side: `stream-train`, `stream-eval`."""
