"""Unreadable record batches through aiokafka's own fetcher classes, patched by ``gateway.kafka.unreadable``.

Batches are made with aiokafka's builders, given offsets the way a broker does (the base offset is outside the
CRC), then corrupted: a CRC byte flipped, an unknown codec in the attributes, a record or a header cut short.
Each case runs on aiokafka's Cython record classes (what the gateway uses) and on its pure-Python ones."""

from __future__ import annotations

import copy
import logging
import pickle
import struct
from collections.abc import Iterator
from typing import Any

import pytest
from aiokafka.consumer import fetcher
from aiokafka.record import default_records, legacy_records, memory_records
from aiokafka.record import util as record_util
from aiokafka.record.default_records import DefaultRecordBatchBuilder
from aiokafka.record.legacy_records import LegacyRecordBatchBuilder
from aiokafka.record.util import calc_crc32c
from aiokafka.structs import ConsumerRecord, TopicPartition

from gateway.kafka import unreadable as u
from gateway.kafka.unreadable import Unreadable, install, is_installed, unreadable

TP = TopicPartition("in", 2)
CRC_AT, ATTRIBUTES_AT, MAGIC_AT = 17, 21, 16  # byte positions in a message-format v2 batch
GZIP, UNKNOWN_CODEC, CONTROL = 0x01, 0x07, 0x20


# -- building batches ---------------------------------------------------------------------------------------


def v2(base: int, count: int, *, codec: int = 0, prefix: str = "v") -> bytearray:
    builder = DefaultRecordBatchBuilder(
        magic=2,
        compression_type=codec,
        is_transactional=0,
        producer_id=-1,
        producer_epoch=-1,
        base_sequence=-1,
        batch_size=1 << 20,
    )
    headers: list[tuple[str, bytes | None]] = [("h", b"x"), ("empty", None)]
    for n in range(count):
        value = b"%s%d" % (prefix.encode(), n)
        builder.append(n, timestamp=1_700_000_000_000 + n, key=b"k%d" % n, value=value, headers=headers)
    data = bytearray(builder.build())
    struct.pack_into(">q", data, 0, base)
    return data


def legacy(base: int, count: int, *, codec: int = 0) -> bytearray:
    """Message format v1: uncompressed, one batch per record; compressed, one wrapper whose offset is the last."""
    if not codec:
        out = bytearray()
        for n in range(count):
            builder = LegacyRecordBatchBuilder(magic=1, compression_type=0, batch_size=1 << 20)
            builder.append(0, timestamp=1_700_000_000_000, key=None, value=b"l%d" % n)
            data = builder.build()
            struct.pack_into(">q", data, 0, base + n)
            out += data
        return out
    builder = LegacyRecordBatchBuilder(magic=1, compression_type=codec, batch_size=1 << 20)
    for n in range(count):
        builder.append(n, timestamp=1_700_000_000_000, key=None, value=b"l%d" % n)
    data = builder.build()
    struct.pack_into(">q", data, 0, base + count - 1)
    return data


def recrc(data: bytearray) -> bytearray:
    struct.pack_into(">I", data, CRC_AT, calc_crc32c(bytes(data[ATTRIBUTES_AT:])))
    return data


def flip_crc(data: bytearray) -> bytearray:
    data[CRC_AT] ^= 0xFF
    return data


def with_attributes(data: bytearray, bits: int) -> bytearray:
    (attributes,) = struct.unpack_from(">h", data, ATTRIBUTES_AT)
    struct.pack_into(">h", data, ATTRIBUTES_AT, attributes | bits)
    return data


def with_codec(data: bytearray, codec: int) -> bytearray:
    """The batch's codec id set to ``codec``, CRC recomputed: the batch is sound until it is decompressed."""
    return recrc(with_attributes(data, codec))


def cut_second_record(data: bytearray) -> bytearray:
    """The second record's length varint made larger than the record, CRC recomputed: record 0 reads, 1 fails."""
    first_length = data[61] >> 1  # zigzag varint, one byte for these small records
    second = 61 + 1 + first_length
    data[second] = (data[second] >> 1) + 40 << 1
    return recrc(data)


def cut_records(data: bytearray, keep: int) -> bytearray:
    """Only ``keep`` bytes of the records section left, the length field telling the truth about it."""
    cut = data[: 61 + keep]
    struct.pack_into(">i", cut, 8, len(cut) - 12)
    return cut


# -- reading them ---------------------------------------------------------------------------------------------


@pytest.fixture(autouse=True, params=["cython", "python"])
def implementation(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """aiokafka's record classes, compiled (the default) or pure Python (``AIOKAFKA_NO_EXTENSIONS``)."""
    install()
    if request.param == "python":
        monkeypatch.setattr(memory_records, "DefaultRecordBatch", default_records._DefaultRecordBatchPy)
        monkeypatch.setattr(memory_records, "LegacyRecordBatch", legacy_records._LegacyRecordBatchPy)
        monkeypatch.setattr(u, "_BaseMemoryRecords", memory_records._MemoryRecordsPy)
        # Its helpers pure Python too, as AIOKAFKA_NO_EXTENSIONS has them: the compiled varint decoder does not check
        # the buffer's end, and the Python batch reading a cut record with it read past it (a segfault, now and then).
        read_msg = default_records._DefaultRecordBatchPy._read_msg
        monkeypatch.setattr(read_msg, "__defaults__", (record_util.decode_varint_py,))
        monkeypatch.setattr(default_records, "calc_crc32c", record_util.calc_crc32c_py)
    return str(request.param)


def original_memory_records(implementation: str) -> Any:
    return memory_records._MemoryRecordsPy if implementation == "python" else u._BaseMemoryRecords


def partition_records(data: bytes, fetch_offset: int = 0, **options: Any) -> Any:
    """What the patched fetcher builds for one partition of a fetch response."""
    return fetcher.PartitionRecords(
        TP,
        fetcher.MemoryRecords(bytes(data)),
        None,
        fetch_offset,
        options.get("key_deserializer"),
        options.get("value_deserializer"),
        options.get("check_crcs", True),
        fetcher.READ_UNCOMMITTED,
    )


def read(data: bytes, fetch_offset: int = 0, **options: Any) -> tuple[list[ConsumerRecord[Any, Any]], int]:
    records = partition_records(data, fetch_offset, **options)
    return list(records), records.next_fetch_offset


def read_unpatched(implementation: str, data: bytes, fetch_offset: int = 0, check_crcs: bool = True) -> Any:
    records = u._BasePartitionRecords(
        TP,
        original_memory_records(implementation)(bytes(data)),
        None,
        fetch_offset,
        None,
        None,
        check_crcs,
        fetcher.READ_UNCOMMITTED,
    )
    return records


def values(records: list[ConsumerRecord[Any, Any]]) -> list[tuple[object, ...]]:
    """(offset, value) per record; ("unreadable", first, last, error class) for a range."""
    return [
        ("unreadable", v.first_offset, v.last_offset, v.error_class)
        if (v := unreadable(r)) is not None
        else (r.offset, r.value)
        for r in records
    ]


def only_unreadable(records: list[ConsumerRecord[Any, Any]]) -> Unreadable:
    found = [v for r in records if (v := unreadable(r)) is not None]
    assert len(found) == 1, found
    return found[0]


# -- healthy batches ------------------------------------------------------------------------------------------

HEALTHY = {
    "v2": lambda: v2(0, 3) + v2(3, 2) + v2(5, 4),
    "v2 gzip": lambda: v2(10, 3, codec=GZIP) + v2(13, 5, codec=GZIP),
    "v2 with a gap (compaction)": lambda: v2(0, 2) + v2(7, 3),
    "v1": lambda: legacy(0, 3),
    "v1 gzip": lambda: legacy(4, 3, codec=GZIP) + legacy(7, 2, codec=GZIP),
    "control batch": lambda: v2(0, 2) + recrc(with_attributes(v2(2, 1), CONTROL)) + v2(3, 2),
    "trailing partial batch": lambda: v2(0, 3) + v2(3, 3)[:40],
}


@pytest.mark.parametrize("make", HEALTHY.values(), ids=HEALTHY.keys())
@pytest.mark.parametrize("fetch_offset", [0, 1, 4])
def test_healthy_batches_come_through_exactly_as_without_the_patch(
    implementation: str, make: Any, fetch_offset: int
) -> None:
    data = bytes(make())
    expected = read_unpatched(implementation, data, fetch_offset)
    expected_records = list(expected)
    records, position = read(data, fetch_offset)
    assert records == expected_records
    assert position == expected.next_fetch_offset
    assert all(unreadable(r) is None for r in records)


def test_without_crc_checks_nothing_changes(implementation: str) -> None:
    data = bytes(v2(0, 2) + flip_crc(v2(2, 3)) + v2(5, 1))
    expected = read_unpatched(implementation, data, check_crcs=False)
    assert read(data, check_crcs=False) == (list(expected), expected.next_fetch_offset)


# -- unreadable batches ---------------------------------------------------------------------------------------


def test_a_batch_failing_its_crc_becomes_one_unreadable_record_between_untouched_neighbours() -> None:
    records, position = read(v2(0, 3) + flip_crc(v2(3, 4)) + v2(7, 2, prefix="after"))
    assert values(records)[:3] == [(0, b"v0"), (1, b"v1"), (2, b"v2")]
    assert values(records)[4:] == [(7, b"after0"), (8, b"after1")]
    bad = records[3]
    value = only_unreadable(records)
    assert (bad.topic, bad.partition, bad.offset) == ("in", 2, 3)
    assert (value.first_offset, value.last_offset, value.error_class) == (3, 6, "CorruptRecordException")
    assert "CRC" in value.detail
    assert position == 9


def test_an_unknown_codec_becomes_one_unreadable_record_for_the_batch() -> None:
    records, position = read(v2(0, 2) + with_codec(v2(2, 3), UNKNOWN_CODEC) + v2(5, 1))
    assert [r.offset for r in records] == [0, 1, 2, 5]
    value = only_unreadable(records)
    assert (value.first_offset, value.last_offset, value.error_class) == (2, 4, "UnsupportedCodecError")
    assert "codec" in value.detail
    assert position == 6


def test_a_crc_failure_is_reported_before_a_codec_failure() -> None:
    records, _ = read(flip_crc(with_codec(v2(0, 3), UNKNOWN_CODEC)))
    assert only_unreadable(records).error_class == "CorruptRecordException"


def test_records_read_before_a_failure_come_through_and_the_rest_is_one_range() -> None:
    records, position = read(cut_second_record(v2(10, 4)) + v2(14, 1, prefix="after"))
    assert values(records)[0] == (10, b"v0")
    value = only_unreadable(records)
    assert (value.first_offset, value.last_offset, value.error_class) == (11, 13, "CorruptRecordException")
    assert values(records)[2] == (14, b"after0")
    assert position == 15


def test_a_batch_whose_records_are_cut_short() -> None:
    record_size = 1 + (v2(0, 1)[61] >> 1)
    batch = cut_records(v2(20, 5), keep=2 * record_size + 5)  # two records and a bit of the third
    records, position = read(batch)  # the CRC no longer matches: nothing of it is trusted
    assert values(records) == [("unreadable", 20, 24, "CorruptRecordException")]
    assert records[0].offset == 20 and position == 25
    records, position = read(batch, check_crcs=False)  # unchecked: the records that parse come through
    assert [r.offset for r in records if unreadable(r) is None] == [20, 21]
    value = only_unreadable(records)
    assert (value.first_offset, value.last_offset) == (22, 24)
    assert position == 25


def test_the_range_starts_at_the_fetch_position_inside_the_batch() -> None:
    records, position = read(flip_crc(v2(0, 6)), fetch_offset=4)
    assert [r.offset for r in records] == [4]
    assert (only_unreadable(records).first_offset, only_unreadable(records).last_offset) == (4, 5)
    assert position == 6


def test_a_legacy_record_failing_its_crc() -> None:
    data = legacy(0, 3)
    size = len(data) // 3
    data[size + 12] ^= 0xFF  # the CRC of the second record (offset 1)
    records, position = read(data)
    assert values(records)[0] == (0, b"l0") and values(records)[2] == (2, b"l2")
    value = only_unreadable(records)
    assert (value.first_offset, value.last_offset, records[1].offset) == (1, 1, 1)
    assert position == 3


def test_a_crc_failure_is_never_skipped_as_a_control_batch() -> None:
    records, position = read(v2(0, 1) + flip_crc(with_attributes(v2(1, 2), CONTROL)))
    assert (only_unreadable(records).first_offset, only_unreadable(records).last_offset) == (1, 2)
    assert position == 3


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(lambda b: cut_records(b, keep=0)[:40], id="header cut short"),
        pytest.param(lambda b: b[:16] + bytes([7]) + b[17:], id="unknown magic"),
    ],
)
def test_an_unframed_batch_is_the_fetch_position_alone_and_nothing_after_it_is_skipped(header: Any) -> None:
    bad = header(v2(3, 4))
    struct.pack_into(">i", bad, 8, len(bad) - 12)
    records, position = read(v2(0, 3) + bad + v2(7, 2), fetch_offset=0)
    assert [r.offset for r in records] == [0, 1, 2, 3]
    value = only_unreadable(records)
    assert (value.first_offset, value.last_offset, value.error_class) == (3, 3, "CorruptRecordException")
    assert position == 4  # the next fetch starts one offset later; the batch after it is fetched again


def test_next_batch_raising_is_the_fetch_position_alone() -> None:
    # Records wrapped without their buffer (not through the patched MemoryRecords): aiokafka's own check raises.
    tiny = struct.pack(">qi", 5, 8) + bytes(8)
    records = fetcher.PartitionRecords(
        TP, u._BaseMemoryRecords(tiny), None, 5, None, None, True, fetcher.READ_UNCOMMITTED
    )
    found = list(records)
    value = only_unreadable(found)
    assert (found[0].offset, value.first_offset, value.last_offset) == (5, 5, 5)
    assert records.next_fetch_offset == 6


def test_a_deserializer_that_raises_makes_that_record_unreadable() -> None:
    def value_deserializer(value: bytes) -> str:
        if value == b"v1":
            raise ValueError("not text")
        return value.decode()

    records, position = read(v2(0, 3), value_deserializer=value_deserializer)
    assert [r.value for r in records if unreadable(r) is None] == ["v0", "v2"]
    value = only_unreadable(records)
    assert (value.first_offset, value.last_offset, value.error_class, value.detail) == (1, 1, "ValueError", "not text")
    assert position == 3


def test_the_synthetic_record_is_an_ordinary_consumer_record() -> None:
    (record,) = read(flip_crc(v2(40, 2)))[0]
    assert isinstance(record, ConsumerRecord)
    assert record.key is None and record.headers == () and record.checksum is None
    assert isinstance(record.value, bytes) and record.value == b"" and len(record.value) == 0
    assert record.timestamp > 1_700_000_000_000 and record.timestamp_type == 0
    assert (record.serialized_key_size, record.serialized_value_size) == (-1, 0)


def test_one_warning_per_unreadable_range(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="gateway.kafka.unreadable"):
        read(v2(0, 1) + flip_crc(v2(1, 50)) + v2(51, 1))
    (warning,) = caplog.records
    assert warning.levelno == logging.WARNING
    assert all(s in warning.getMessage() for s in ("in [2]", "1..50", "CorruptRecordException", "CRC"))


# -- positions through aiokafka's FetchResult ----------------------------------------------------------------


class _State:
    paused = False

    def __init__(self, position: int) -> None:
        self.position = position

    def consumed_to(self, position: int) -> None:
        self.position = position


class _Assignment:
    active = True

    def __init__(self, position: int) -> None:
        self.state = _State(position)

    def state_value(self, tp: TopicPartition) -> _State:
        return self.state


def polls(data: bytes, max_records: int) -> Iterator[tuple[list[tuple[object, ...]], int]]:
    """Each getmany's share of this partition (aiokafka's FetchResult.getall), and the position after it."""
    assignment = _Assignment(0)
    result = fetcher.FetchResult(TP, assignment=assignment, partition_records=partition_records(data), backoff=0)
    while result.has_more():
        got = result.getall(max_records)
        yield values(got), assignment.state.position


def test_the_position_moves_past_the_range_as_soon_as_it_is_handed_on() -> None:
    data = v2(0, 1) + flip_crc(v2(1, 5)) + v2(6, 1)
    range_ = ("unreadable", 1, 5, "CorruptRecordException")
    assert list(polls(data, max_records=2)) == [([(0, b"v0"), range_], 6), ([(6, b"v0")], 7)]
    assert [position for _, position in polls(data, max_records=1)][:3] == [1, 6, 7]


# -- the API --------------------------------------------------------------------------------------------------


def test_install_is_idempotent() -> None:
    patched = fetcher.PartitionRecords, fetcher.MemoryRecords
    install()
    install()
    assert (fetcher.PartitionRecords, fetcher.MemoryRecords) == patched and is_installed()


def test_the_unreadable_value() -> None:
    value = Unreadable(first_offset=3, last_offset=9, error_class="UnsupportedCodecError", detail="codec 0x07")
    assert isinstance(value, bytes) and value == b"" and not value
    for same in (pickle.loads(pickle.dumps(value)), copy.copy(value), copy.deepcopy(value)):
        assert isinstance(same, Unreadable) and repr(same) == repr(value)
    assert "first_offset=3" in repr(value) and "last_offset=9" in repr(value)
    record = ConsumerRecord("in", 0, 3, 0, 0, None, value, None, -1, 0, ())
    assert unreadable(record) is value
    assert unreadable(ConsumerRecord("in", 0, 3, 0, 0, None, b"", None, -1, 0, ())) is None
    assert unreadable(object()) is None
    with pytest.raises(ValueError, match="before first_offset"):
        Unreadable(first_offset=5, last_offset=4, error_class="X", detail="")
