"""The console script as a user runs it: ``render`` and ``validate``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from lxml import etree

from gateway.resources import examples_dir
from gateway.tools.examples import Example


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway", *args], capture_output=True, text=True, timeout=60, check=False
    )


def test_render_prints_the_document(example_by_name: dict[str, Example]) -> None:
    example = example_by_name["authorization-request/accepted/full-multiline"]
    done = cli("render", str(example.path))
    assert done.returncode == 0, done.stderr
    assert example.expected_xml is not None
    expected = etree.canonicalize(example.expected_xml.read_text(encoding="utf-8"), strip_text=True)
    assert etree.canonicalize(done.stdout, strip_text=True) == expected


def test_render_reports_field_errors_with_exit_2(example_by_name: dict[str, Example]) -> None:
    example = example_by_name[
        "authorization-request/invalid/GW-DISTRICT_UNKNOWN+GW-LITERAL_ERROR+GW-MISSING--three-errors"
    ]
    done = cli("render", str(example.path))
    assert done.returncode == 2
    errors = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(e["code"], e["path"]) for e in errors] == [
        ("GW-DISTRICT_UNKNOWN", "data.district"),
        ("GW-LITERAL_ERROR", "data.purpose.code"),
        ("GW-MISSING", "data.processor"),
    ]
    assert all(e["message_es"] and e["message_en"] for e in errors)


def test_validate_accepts_every_example_that_reaches_customs() -> None:
    files = sorted(str(p) for p in examples_dir().glob("*/accepted/*.*")) + sorted(
        str(p) for p in examples_dir().glob("*/rejected/*.json")
    )
    done = cli("validate", *files)
    assert done.returncode == 0, done.stdout
    assert done.stdout.count(": valid") == len(files)


def test_validate_reports_every_error_with_its_path(tmp_path: Path, example_by_name: dict[str, Example]) -> None:
    golden = example_by_name["authorization-request/accepted/minimal"].expected_xml
    assert golden is not None
    broken = tmp_path / "broken.xml"
    broken.write_text(
        golden.read_text(encoding="utf-8")
        .replace("<aut:District>028<", "<aut:District>999<")
        .replace("<aut:TariffCode>8410110000<", "<aut:TariffCode>84101100<"),
        encoding="utf-8",
    )
    invalid = example_by_name["authorization-request/invalid/GW-RUC_INVALID--natural-person-bad-cedula"].path
    done = cli("validate", str(broken), str(invalid))
    assert done.returncode == 2
    lines = done.stdout.splitlines()
    assert any("/aut:AuthorizationRequest/aut:District (line" in line and "028" in line for line in lines)
    assert any("/aut:AuthorizationRequest/aut:Item/aut:TariffCode" in line for line in lines)
    assert any("data.applicant.ruc: GW-RUC_INVALID" in line for line in lines)


def test_validate_refuses_hostile_xml(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.xml"
    bomb.write_text('<?xml version="1.0"?><!DOCTYPE a [<!ENTITY b "c">]><a>&b;</a>', encoding="utf-8")
    done = cli("validate", str(bomb))
    assert done.returncode == 2 and "XML-UNSAFE" in done.stdout
