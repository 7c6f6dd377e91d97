"""What every skelstream package builds on at its edges with the outside world.

- `foundation.errors`: the error types a user may see (each carries a message meant for them);
- `foundation.optional`: optional dependencies, imported where used: `require("torch", extra="train")`
  is the one way to load one, and its error names the extra that installs it;
- `foundation.yaml_files`: small YAML files from outside, bounded in size, safely loaded;
- `foundation.config_files`: config dataclasses from YAML files and flags, every key and type checked;
- `foundation.output_files`: output files written safely (temporary name, fsync, rename; never destroying data).

`models`, `calibration` and `stream` use it; it uses none of them (numpy and PyYAML at most).
"""
