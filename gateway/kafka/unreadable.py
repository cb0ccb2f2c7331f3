"""Records the Kafka client cannot read, handed on as one record per unreadable range instead of an exception.

    fetch response -> MemoryRecords -> PartitionRecords (aiokafka) -> ConsumerRecord -> getmany -> the gateway

Left alone, aiokafka raises from ``getmany`` on every poll when a batch fails its CRC, uses a codec it cannot
decode, or does not parse: the partition never moves past it, records already drained from other partitions in the
same call are dropped while their positions advance, and FastStream only logs and polls again. ``install()``
(called by the gateway when it is built, never at import) replaces two names the fetcher looks up when it builds a
partition's records — ``aiokafka.consumer.fetcher.MemoryRecords`` and ``PartitionRecords`` — with wrappers that turn
what cannot be read into **one ordinary** ``ConsumerRecord`` whose ``value`` is an ``Unreadable``: empty bytes that
say which offsets (``first_offset`` to ``last_offset``, inclusive) could not be read and why. aiokafka then moves
the position past that range as it does past any record. What the wrappers decide:

- **a batch that fails its CRC** (when the consumer checks CRCs, aiokafka's default): none of its records are
  trusted; the range is from the fetch position (or the batch's base offset, if later) to the batch's last offset.
- **a batch whose records fail while being read** (an unknown or missing codec, a corrupt record): the records
  read before the failure come through untouched; the range is from the first offset not handed on to the batch's
  last offset.
- **a batch whose framing cannot be read** (its header is shorter than its format needs, an unknown magic byte,
  or aiokafka refuses to slice it): its extent is unknown, so the range is the fetch position alone, and the next
  fetch tries again one offset later. Records that might be readable are never skipped.
- **a record whose key or value deserializer raises** (the gateway configures none): that record's offset alone.

Healthy batches go through untouched, records and positions exactly as without the wrappers. The wrappers hold
aiokafka's record classes (Cython or pure Python) and delegate to them; they do not read records themselves.
"""

from __future__ import annotations

import logging
import struct
import time
from collections.abc import Iterator
from typing import Any

from aiokafka.consumer import fetcher
from aiokafka.errors import CorruptRecordException
from aiokafka.structs import ConsumerRecord

log = logging.getLogger(__name__)

_DETAIL_MAX = 500
# Kafka's record formats share their first bytes: offset (int64), length of the rest (int32), then the magic byte
# at byte 16. Below these sizes a batch's header is cut short and aiokafka would read past its end.
_LENGTH_AT, _MAGIC_AT, _LOG_OVERHEAD = 8, 16, 12
_MIN_BATCH_BYTES = {0: 26, 1: 34, 2: 61}  # magic -> offset, length and the fixed header of that format


class Unreadable(bytes):
    """The value of a record standing for offsets the Kafka client could not read: empty bytes, with the range
    (``first_offset`` to ``last_offset``, inclusive) and the client's error (``error_class``, ``detail``).

    A ``bytes`` so that whatever expects a record's value accepts it; it compares as ``b""`` does."""

    _first_offset: int
    _last_offset: int
    _error_class: str
    _detail: str

    def __new__(cls, *, first_offset: int, last_offset: int, error_class: str, detail: str) -> Unreadable:
        if last_offset < first_offset:
            raise ValueError(f"last_offset {last_offset} is before first_offset {first_offset}")
        self = super().__new__(cls, b"")
        self._first_offset, self._last_offset = first_offset, last_offset
        self._error_class, self._detail = error_class, detail
        return self

    @property
    def first_offset(self) -> int:
        return self._first_offset

    @property
    def last_offset(self) -> int:
        """The last offset of the range, inclusive."""
        return self._last_offset

    @property
    def error_class(self) -> str:
        """The class of the client's error, e.g. ``CorruptRecordException`` or ``UnsupportedCodecError``."""
        return self._error_class

    @property
    def detail(self) -> str:
        return self._detail

    def __reduce__(self) -> tuple[Any, ...]:
        return _rebuild, (self._first_offset, self._last_offset, self._error_class, self._detail)

    def __repr__(self) -> str:
        return (
            f"Unreadable(first_offset={self._first_offset}, last_offset={self._last_offset}, "
            f"error_class={self._error_class!r}, detail={self._detail!r})"
        )


def _rebuild(first_offset: int, last_offset: int, error_class: str, detail: str) -> Unreadable:
    return Unreadable(first_offset=first_offset, last_offset=last_offset, error_class=error_class, detail=detail)


def unreadable(record: object) -> Unreadable | None:
    """The ``Unreadable`` a record (a ``ConsumerRecord``, or anything with a ``value``) stands for, if it does."""
    value = getattr(record, "value", None)
    return value if isinstance(value, Unreadable) else None


def install() -> None:
    """Make aiokafka's fetcher hand on unreadable records as ``Unreadable`` values (see the module docstring).

    Idempotent; affects every aiokafka consumer of the process from its next fetch on."""
    if not is_installed():
        fetcher.MemoryRecords = _memory_records
        fetcher.PartitionRecords = _PartitionRecords


def is_installed() -> bool:
    return isinstance(fetcher.PartitionRecords, type) and issubclass(fetcher.PartitionRecords, _PartitionRecords)


# -- the wrappers ---------------------------------------------------------------------------------------------

_BaseMemoryRecords = fetcher.MemoryRecords
_BasePartitionRecords = fetcher.PartitionRecords


class _Failure:
    """Why a batch, or part of it, could not be read."""

    __slots__ = ("detail", "error_class")

    def __init__(self, error_class: str, detail: str) -> None:
        self.error_class, self.detail = error_class, detail[:_DETAIL_MAX]

    @classmethod
    def of(cls, exc: BaseException) -> _Failure:
        message = exc.args[0] if exc.args and isinstance(exc.args[0], str) else str(exc)
        return cls(type(exc).__name__, message or type(exc).__name__)


class _SyntheticRecord:
    """What a wrapped batch yields for an unreadable range: aiokafka reads its offset, then hands it to
    ``_PartitionRecords._consumer_record``, which makes the ``ConsumerRecord``."""

    __slots__ = ("offset", "value")

    def __init__(self, value: Unreadable) -> None:
        self.offset = value.first_offset
        self.value = value


class _Records:
    """Wraps aiokafka's ``MemoryRecords`` (the record batches of one partition in one fetch response)."""

    def __init__(self, inner: Any, buffer: bytes | bytearray | memoryview | None = None) -> None:
        self._inner = inner
        self._buffer = memoryview(buffer) if buffer is not None else None
        self._pos = 0
        self._stopped = False
        self.owner: _PartitionRecords | None = None  # set by the partition's records, which read the position

    def size_in_bytes(self) -> int:
        return int(self._inner.size_in_bytes())

    def has_next(self) -> bool:
        return not self._stopped and bool(self._inner.has_next())

    def next_batch(self) -> Any:
        assert self.owner is not None, "wrapped records are read through _PartitionRecords"
        size: int | None = None
        try:
            size = self._checked_size()
            batch = self._inner.next_batch()
            if batch is None:
                raise CorruptRecordException("no record batch where one was announced")
        except Exception as exc:
            # The extent of what failed is unknown: stop here, so that what follows is fetched again.
            self._stopped = True
            return _UnframedBatch(self.owner, _Failure.of(exc))
        if size is not None:
            self._pos += size
        return _Batch(batch, self.owner)

    def _checked_size(self) -> int | None:
        """The byte size of the next batch, raising where its header is cut short (None: buffer unknown)."""
        buffer = self._buffer
        if buffer is None:
            return None
        pos = self._pos
        if len(buffer) - pos < _LOG_OVERHEAD:
            raise CorruptRecordException(f"record batch framing cut short at byte {pos} of the fetch response")
        size: int = _LOG_OVERHEAD + struct.unpack_from(">i", buffer, pos + _LENGTH_AT)[0]
        if size <= _MAGIC_AT or len(buffer) - pos <= _MAGIC_AT:
            raise CorruptRecordException(f"record batch of {size} bytes is too short to hold a magic byte")
        magic = buffer[pos + _MAGIC_AT]
        minimum = _MIN_BATCH_BYTES.get(magic)
        if minimum is None:
            raise CorruptRecordException(f"record batch with unknown magic byte {magic}")
        if size < minimum:
            raise CorruptRecordException(
                f"record batch of {size} bytes is shorter than the {minimum} of a message-format v{magic} header"
            )
        return size


def _memory_records(data: bytes | bytearray | memoryview) -> _Records:
    """Replaces ``MemoryRecords`` in aiokafka's fetcher: the same records, wrapped, with their buffer."""
    return _Records(_BaseMemoryRecords(data), data)


class _Batch:
    """Wraps one of aiokafka's record batches (``DefaultRecordBatch``, ``LegacyRecordBatch``): records read up to a
    failure come through, then one synthetic record for the rest of the batch."""

    def __init__(self, inner: Any, owner: _PartitionRecords) -> None:
        self._inner = inner
        self._owner = owner
        self._crc_failure: _Failure | None = None
        self._next_offset: int | None = None  # set when the batch failed: where the position goes after it

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def validate_crc(self) -> bool:
        try:
            valid = bool(self._inner.validate_crc())
        except Exception as exc:
            self._crc_failure = _Failure.of(exc)
        else:
            if not valid:
                stored = getattr(self._inner, "crc", None)
                detail = "record batch failed its CRC check"
                if isinstance(stored, int):
                    detail += f" (stored CRC {stored:#010x})"
                self._crc_failure = _Failure("CorruptRecordException", detail)
        return True  # the failure is reported by iterating: one synthetic record

    # A batch that failed its CRC has untrusted attributes: it is read as data, never skipped as control or aborted.
    @property
    def is_control_batch(self) -> bool:
        return self._crc_failure is None and bool(self._inner.is_control_batch)

    @property
    def is_transactional(self) -> bool:
        return self._crc_failure is None and bool(self._inner.is_transactional)

    @property
    def next_offset(self) -> int:
        return self._next_offset if self._next_offset is not None else int(self._inner.next_offset)

    def __next__(self) -> Any:  # aiokafka reads a control batch's marker with next()
        return next(self._inner)

    def __iter__(self) -> Iterator[Any]:
        if self._crc_failure is not None:
            yield from self._fail(self._crc_failure, trusted_extent=False)
            return
        try:
            yield from self._inner
        except Exception as exc:
            yield from self._fail(_Failure.of(exc), trusted_extent=True)

    def _fail(self, failure: _Failure, *, trusted_extent: bool) -> Iterator[_SyntheticRecord]:
        first = self._owner.next_fetch_offset
        base = getattr(self._inner, "base_offset", None)
        if isinstance(base, int):
            first = max(first, base)
        try:
            last = int(self._inner.next_offset) - 1
        except Exception:
            last = first - 1
        if last < first:
            if trusted_extent:
                # Every record of the batch was handed on before the failure (trailing bytes): nothing is lost.
                log.warning(
                    "%s [%d]: record batch ending at offset %d has unreadable trailing data (%s: %s); "
                    "every record was read",
                    self._owner.topic,
                    self._owner.partition,
                    last,
                    failure.error_class,
                    failure.detail,
                )
                self._next_offset = max(first, last + 1)
                return
            last = first  # an extent claimed by a header that failed its CRC and points backwards: one offset
        self._next_offset = last + 1
        yield _SyntheticRecord(_unreadable(first, last, failure))


class _UnframedBatch:
    """Stands for a batch aiokafka could not even slice: the fetch position alone is unreadable."""

    is_control_batch = False
    is_transactional = False
    producer_id = None

    def __init__(self, owner: _PartitionRecords, failure: _Failure) -> None:
        self._offset = owner.next_fetch_offset
        self._failure = failure

    @property
    def base_offset(self) -> int:
        return self._offset

    @property
    def next_offset(self) -> int:
        return self._offset + 1

    def validate_crc(self) -> bool:
        return True

    def __iter__(self) -> Iterator[_SyntheticRecord]:
        yield _SyntheticRecord(_unreadable(self._offset, self._offset, self._failure))


def _unreadable(first: int, last: int, failure: _Failure) -> Unreadable:
    return Unreadable(first_offset=first, last_offset=last, error_class=failure.error_class, detail=failure.detail)


class _PartitionRecords(_BasePartitionRecords):  # type: ignore[misc,valid-type]
    """aiokafka's ``PartitionRecords`` over wrapped records; a synthetic record moves the position past its range
    as soon as it is handed on."""

    def __init__(self, tp: Any, records: Any, *args: Any) -> None:
        self._skip_to = -1
        if not isinstance(records, _Records):
            records = _Records(records)
        records.owner = self
        super().__init__(tp, records, *args)

    @property
    def topic(self) -> str:
        return str(self._tp.topic)

    @property
    def partition(self) -> int:
        return int(self._tp.partition)

    # aiokafka sets this to the record's offset + 1 after each record: after a synthetic record, past its range.
    @property
    def next_fetch_offset(self) -> int:
        return self._next_fetch_offset

    @next_fetch_offset.setter
    def next_fetch_offset(self, offset: int) -> None:
        self._next_fetch_offset = max(offset, self._skip_to)

    def _consumer_record(self, tp: Any, record: Any) -> Any:
        if isinstance(record, _SyntheticRecord):
            return self._synthetic(tp, record.value)
        try:
            return super()._consumer_record(tp, record)
        except Exception as exc:  # a deserializer that raises
            return self._synthetic(tp, _unreadable(record.offset, record.offset, _Failure.of(exc)))

    def _synthetic(self, tp: Any, value: Unreadable) -> Any:
        log.warning(
            "%s [%d]: offsets %d..%d cannot be read (%s: %s); handed on as one unreadable record, "
            "the partition moves past them",
            tp.topic,
            tp.partition,
            value.first_offset,
            value.last_offset,
            value.error_class,
            value.detail,
        )
        self._skip_to = value.last_offset + 1
        return ConsumerRecord(
            tp.topic,
            tp.partition,
            value.first_offset,
            int(time.time() * 1000),
            0,
            None,
            value,
            None,
            -1,
            0,
            (),
        )
