"""`python -m service` runs the faithgate CLI."""

import sys

from service.cli import main

sys.exit(main())
