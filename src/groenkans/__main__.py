"""``python -m groenkans``: the same as the ``groenkans`` command."""

import sys

from groenkans.cli import main

sys.exit(main())
