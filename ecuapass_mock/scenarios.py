"""Scenario control: magic values in a case's local references choose the path customs takes after the warehouse
entry, as the best customs stubs do (HMRC's customs-declarations-stub answers by magic values in the declaration).

The references read are the ``cmn:FunctionalReference`` of the warehouse entry and of the DAE it names. A magic
value is a dash-separated part of a reference after its first, in any case: ``ING-2026-0001-PHYS-FIND`` holds
``PHYS`` and ``FIND``; ``OBS-1`` holds none (no dash before it).

    value   effect (all of it ours [G]: a test device, nothing SENAE does)
    -AUTO   inspection channel AUTOMATIC instead of the seeded draw (the entry's reply says so)
    -ELEC   channel ELECTRONIC
    -DOCS   channel DOCUMENTARY
    -PHYS   channel PHYSICAL
    -OBS    the review raises an observation (electronic, documentary: when the review ends; physical: when the
            inspection closes); the case waits until it is closed (``POST /admin/notifications/{id}/close-observation``)
            before exit is authorised. No effect on the automatic channel: nothing is reviewed there.
    -FIND   a physical inspection closes with findings, and the findings raise an observation as -OBS does.
            No effect on the other channels.
    -DELAY  every timing of the case multiplied by ``lifecycle.delay_factor`` (default 10)
    -SILENT customs does its part and notifies nothing: no notification of the case ever reaches a feed

Several channel values: the first found wins (the entry's reference before the DAE's). References without magic
values, like every example of ``contracts/examples/``, get the drawn channel and the plain path.
"""

from __future__ import annotations

from dataclasses import dataclass

from ecuapass_mock.store import FilingStore

CHANNELS: dict[str, str] = {"AUTO": "AUTOMATIC", "ELEC": "ELECTRONIC", "DOCS": "DOCUMENTARY", "PHYS": "PHYSICAL"}


@dataclass(frozen=True, slots=True)
class Scenario:
    """The path a case takes: the channel forced (``None``: drawn), and the variations of the path."""

    channel: str | None = None
    observation: bool = False
    findings: bool = False
    delayed: bool = False
    silent: bool = False


def scenario(*references: str) -> Scenario:
    """The scenario the magic values of ``references`` select (the entry's reference first)."""
    values = [part.upper() for reference in references for part in reference.split("-")[1:]]
    channel = next((CHANNELS[value] for value in values if value in CHANNELS), None)
    return Scenario(
        channel=channel,
        observation="OBS" in values,
        findings="FIND" in values,
        delayed="DELAY" in values,
        silent="SILENT" in values,
    )


def of_entry(store: FilingStore, entry_reference: str, dae_number: str) -> Scenario:
    """The scenario of the case a warehouse entry (its reference, the DAE number it names) belongs to."""
    dae = store.accepted_grant(dae_number)
    return scenario(entry_reference, dae.reference if dae is not None else "")
