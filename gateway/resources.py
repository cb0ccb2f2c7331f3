"""Where the gateway's data files are: the XSDs and the contract files (examples, schemas, tables).

In a source checkout they are the repository's ``schemas/`` and ``contracts/`` folders; an installed wheel carries
the same tree under ``gateway/_data/`` (see ``[tool.hatch.build.targets.wheel.force-include]``).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from gateway.errors import ConfigurationError

_PACKAGE = Path(__file__).resolve().parent


@cache
def data_root() -> Path:
    """The folder holding ``schemas/xsd`` and ``contracts``."""
    for root in (_PACKAGE / "_data", _PACKAGE.parent):
        if (root / "schemas" / "xsd").is_dir():
            return root
    raise ConfigurationError(f"the gateway's XSDs are missing (looked in {_PACKAGE / '_data'} and {_PACKAGE.parent})")


def xsd_dir() -> Path:
    return data_root() / "schemas" / "xsd"


def contracts_dir() -> Path:
    return data_root() / "contracts"


def examples_dir() -> Path:
    return contracts_dir() / "examples"
