"""`python -m reportlib` runs the command line."""

import sys

from reportlib.cli import main

sys.exit(main())
