"""`python -m api` is the `seatflow` command."""

import sys

from api.cli import main

sys.exit(main())
