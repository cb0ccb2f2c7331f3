"""``python -m gateway`` is ``ecuapass-gateway``."""

import sys

from gateway.cli import main

sys.exit(main())
