"""`python -m engine` is the `seatflow` command."""

import sys

from engine.cli import main

sys.exit(main())
