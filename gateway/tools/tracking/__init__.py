"""What became of a case's documents, read back from the outcome topics: the core of ``case`` and ``tail``.

An operations tool beside ``gateway/tools/dlq.py``: it only reads Kafka, never the input topic and never customs.

- ``entries``: ``Entry`` (one outcome, whichever it is) and the outcome records read into entries;
- ``masking``: what of an entry is masked before it is printed;
- ``reading``: ``case_timeline`` (a case's outcomes up to now), ``follow`` and ``tail`` (every outcome, live);
- ``notices``: ``case_notices``, what customs notified about a case (the intake's notifications topic);
- ``rendering``: ``Printer``, the rich rendering for a person and the JSON lines for pipes.

The CLI (``ecuapass-gateway case`` and ``tail``) uses only what this package exports.
"""

from gateway.tools.tracking.notices import case_notices
from gateway.tools.tracking.reading import case_timeline, tail
from gateway.tools.tracking.rendering import Printer

__all__ = ["Printer", "case_notices", "case_timeline", "tail"]
