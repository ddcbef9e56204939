"""``python -m maxbounds``: the command line, as the ``maxbounds`` script."""

import sys

from .cli.main import main

sys.exit(main())
