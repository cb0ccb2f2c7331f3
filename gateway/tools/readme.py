"""The generated parts of README.md: the settings table, the customs error codes, the notification catalogue.

Each sits between ``<!-- generated:NAME -->`` and ``<!-- /generated:NAME -->``; ``make docs`` rewrites them
(``python -m gateway.tools.readme``) and a test fails when they drift from the code.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from pathlib import Path

from gateway.contract import customs_codes, notifications
from gateway.settings import settings_table

SECTIONS: dict[str, Callable[[], str]] = {
    "settings": settings_table,
    "customs-codes": customs_codes.table,
    "notifications": notifications.table,
}
README = Path(__file__).resolve().parents[2] / "README.md"


def regenerate(text: str) -> str:
    for name, produce in SECTIONS.items():
        pattern = re.compile(rf"(<!-- generated:{name} -->\n).*?(\n<!-- /generated:{name} -->)", re.DOTALL)
        if not pattern.search(text):
            raise ValueError(f"README has no generated:{name} section")
        text = pattern.sub(partial(_fill, produce()), text)
    return text


def _fill(body: str, match: re.Match[str]) -> str:
    return f"{match.group(1)}{body}{match.group(2)}"


if __name__ == "__main__":
    README.write_text(regenerate(README.read_text(encoding="utf-8")), encoding="utf-8")
