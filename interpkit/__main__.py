"""``python -m interpkit ...``: the command line (:mod:`interpkit.cli`)."""

import sys

from .cli import main

sys.exit(main())
