"""`python -m calibration.cli` is `stream-calibrate`."""

import sys

from calibration.cli import main

sys.exit(main())
