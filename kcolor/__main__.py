"""`python -m kcolor ...`: the same as the `kcolor` console command."""

import sys

from kcolor.cli import main

sys.exit(main())
