"""``python -m bot`` is the ``lotsenbot`` command."""

import sys

from bot.cli import main

sys.exit(main())
