"""``python -m gateway.cli`` is ``ecuapass-gateway`` (as ``python -m gateway``, ``gateway/__main__.py``)."""

import sys

from gateway.cli import main

sys.exit(main())
