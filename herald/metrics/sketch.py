"""Reach (distinct visitors) sketches: HyperLogLog with a sparse mode, mergeable across cells.

Duties
    Herald keeps one :class:`ReachSketch` per rollup cell (campaign × day × placement ×
    device …) and answers "how many distinct visitors over these cells?" by merging the
    cells' sketches and estimating, instead of scanning raw events. Reach is not additive:
    summing the cells' reach counts a visitor once per cell they appear in; merging the
    sketches counts them once.

Units
    * Visitors enter as **16-byte digests** (:data:`DIGEST_SIZE`), produced by
      :func:`visitor_digest` (keyed BLAKE2b). The sketch reads the first 8 bytes as a
      big-endian unsigned 64-bit hash: the top :attr:`ReachSketch.PRECISION` = 14 bits pick
      one of m = 16 384 registers, the remaining 50 bits give the rank (position of the
      first 1-bit, 1…51). Registers therefore hold 0…51 (6 bits' worth), one per byte.
    * :meth:`ReachSketch.estimate` returns a whole number of distinct visitors. Its
      relative standard error is about 1.04/√m ≈ 0.81 % (measured ≈ 0.75 % from 50 000
      up), smaller for small counts: exact or off by one for up to ~100 visitors, about
      ±0.4 % at a thousand. It uses Ertl's estimator rather than the 2007 thresholds,
      which are biased by up to +2.3 % around 41 000 visitors (see
      :func:`_estimate_from_histogram`).

Representation
    A sketch starts **sparse**: a dict of register index → rank holding only the non-zero
    registers. Once more than :data:`SPARSE_LIMIT` (512 = m/32) registers are set it turns
    **dense**: a ``bytearray`` of m registers. The limit is where the dense form becomes the
    cheaper one in memory and at query time: a sparse register costs ~65 bytes of dict and
    int objects and ~50 ns to merge (~120 ns when decoded from storage first), while a
    dense sketch costs 16 KiB and ~25 µs to merge (~60 µs from storage, mostly zlib)
    whatever it holds — at 512 registers sparse is still faster and within ~2× of the dense
    memory. Dense never goes back to sparse: registers only grow.

    Dense merges compute the per-register maximum on the 16 KiB arrays read as one big
    integer (SIMD-within-a-register on byte lanes, see :func:`_register_max`), so merging
    runs at C speed without numpy; :meth:`ReachSketch.estimate` counts each register value
    with ``bytes.count`` rather than looping over registers in Python.

Encoding (stored in the database — stable; change it only under a new version byte)
    ``byte 0``  :data:`ENCODING_VERSION` = 1.
    ``byte 1``  format tag: :data:`LAYOUT_SPARSE` (0x01) or :data:`LAYOUT_DENSE` (0x02),
                OR-ed with :data:`COMPRESSED_FLAG` (0x80) when the payload is a zlib stream.
    ``payload``
        sparse  k big-endian uint16 index *gaps* (first index, then each index minus the
                previous one, so every gap after the first is ≥ 1), followed by the k ranks,
                one byte each (1…51); 3·k bytes, k = number of non-zero registers. An empty
                sketch is just the two header bytes.
        dense   the m = 16 384 register bytes (0…51) in index order.
    A **dense** payload is zlib-compressed (RFC 1950, level 9) exactly when that makes it
    strictly shorter — almost always (16 KiB → ~7 KiB when saturated, far less when mostly
    empty). A **sparse** payload is written uncompressed: it is at most 1.5 KiB (512
    registers), and the rollup writes one per cell and run while reports decode hundreds
    per query, so zlib's fixed cost (~55 µs to compress even a few bytes, ~5 µs to
    inflate) outweighed the third it saved. Readers accept a compressed sparse payload too
    (earlier writers made them). The layout on the wire is the in-memory layout.

    :meth:`ReachSketch.from_bytes` reproduces the registers exactly and keeps the stored
    layout, so ``from_bytes(b).to_bytes() == b`` for everything :meth:`to_bytes` wrote (for
    compressed payloads: as long as the same zlib build re-compresses them; another zlib
    may pick different but equally valid bytes, which decode to the same registers; a
    compressed sparse payload of an earlier writer comes back uncompressed).

Do not
    * pass anything but uniformly random bytes as digests: raw ids, sequential numbers,
      UUIDv1/v7 or unkeyed hashes of guessable ids either skew the estimate (the hash
      must be uniform) or make the digests linkable back to people. Use
      :func:`visitor_digest`.
    * mix digests made under different secrets in one sketch or one union: the same
      visitor then lands in two registers and is counted twice. Rotating the secret
      starts a new, non-mergeable generation of sketches.
    * sum estimates across cells, or subtract them to "remove" visitors: merge, then
      estimate. HyperLogLog supports neither deletion nor reliable intersections.
    * change PRECISION, the hash derivation or the byte layout without bumping
      :data:`ENCODING_VERSION` and keeping a reader for version 1: stored sketches would
      silently decode into wrong registers.
"""

from __future__ import annotations

import hashlib
import math
import struct
import zlib
from collections import Counter
from collections.abc import Hashable, Iterable, Iterator, Mapping
from itertools import accumulate
from typing import Any, ClassVar, Final

import numpy as np

__all__ = [
    "COMPRESSED_FLAG",
    "DIGEST_SIZE",
    "ENCODING_VERSION",
    "LAYOUT_DENSE",
    "LAYOUT_SPARSE",
    "SPARSE_LIMIT",
    "ReachSketch",
    "SerializedSketch",
    "reach_by_group",
    "reach_of",
    "visitor_digest",
]

DIGEST_SIZE: Final = 16
ENCODING_VERSION: Final = 1
LAYOUT_SPARSE: Final = 0x01
LAYOUT_DENSE: Final = 0x02
COMPRESSED_FLAG: Final = 0x80

# Database drivers hand bytea back as bytes or memoryview depending on the driver.
type SerializedSketch = bytes | bytearray | memoryview

_PRECISION: Final = 14
_REGISTER_COUNT: Final = 1 << _PRECISION
_RANK_BITS: Final = 64 - _PRECISION
_RANK_MASK: Final = (1 << _RANK_BITS) - 1
# A hash whose 50 rank bits are all zero gets the largest rank, 51.
_MAX_RANK: Final = _RANK_BITS + 1
SPARSE_LIMIT: Final = _REGISTER_COUNT // 32

_HEADER_SIZE: Final = 2
_SPARSE_ENTRY_SIZE: Final = 3  # uint16 gap + uint8 rank
_ZLIB_LEVEL: Final = 9
# α_∞ = 1/(2 ln 2): the bias constant of Ertl's estimator (no per-m correction needed).
_ALPHA_INFINITY: Final = 1 / (2 * math.log(2))
# bytes.translate(None, delete=…) leaves only the bytes outside these sets: a C-speed
# range check for decoded registers.
_VALID_REGISTER_BYTES: Final = bytes(range(_MAX_RANK + 1))
_VALID_SPARSE_RANK_BYTES: Final = bytes(range(1, _MAX_RANK + 1))
# Registers hold at most 51 < 128, so the top bit of every byte lane is free; setting it
# before subtracting keeps each lane's difference inside its own byte (no borrows).
_LANE_TOP_BITS: Final = int.from_bytes(b"\x80" * _REGISTER_COUNT, "big")


class ReachSketch:
    """A HyperLogLog sketch of visitor digests (m = 2^14 registers, ≈ 0.81 % error).

    Mutable: :meth:`add` and :meth:`merge` change it in place; :meth:`union` and
    :meth:`copy` leave their inputs alone. Two sketches are equal when their registers are,
    whichever layout holds them.
    """

    PRECISION: ClassVar[int] = _PRECISION
    REGISTER_COUNT: ClassVar[int] = _REGISTER_COUNT

    __slots__ = ("_dense", "_sparse")

    def __init__(self) -> None:
        """An empty sparse sketch; prefer :meth:`empty`, :meth:`of` or :meth:`from_bytes`."""
        # Exactly one layout is live: `_dense` is None while sparse, and `_sparse` is
        # emptied (and no longer read) once dense.
        self._sparse: dict[int, int] = {}
        self._dense: bytearray | None = None

    # -- construction ---------------------------------------------------------------------

    @classmethod
    def empty(cls) -> ReachSketch:
        return cls()

    @classmethod
    def of(cls, digests: Iterable[bytes]) -> ReachSketch:
        """A sketch of every digest in ``digests`` (each :data:`DIGEST_SIZE` bytes)."""
        sketch = cls()
        add = sketch.add
        for digest in digests:
            add(digest)
        return sketch

    @classmethod
    def from_registers(cls, registers: Mapping[int, int]) -> ReachSketch:
        """A sketch holding ``registers`` (register index → rank, both already computed
        from the digests as :meth:`add` does, e.g. by SQL over stored visitor digests).

        Sparse up to :data:`SPARSE_LIMIT` registers, dense beyond, as if the digests had
        been added one by one. ValueError for an index outside 0…m−1 or a rank outside
        1…51.
        """
        sketch = cls()
        if not registers:
            return sketch
        if min(registers) < 0 or max(registers) >= _REGISTER_COUNT:
            raise ValueError(f"register index outside 0…{_REGISTER_COUNT - 1}")
        if bytes(registers.values()).translate(None, _VALID_SPARSE_RANK_BYTES):
            raise ValueError(f"register rank outside 1…{_MAX_RANK}")
        sketch._sparse = dict(registers)
        if len(sketch._sparse) > SPARSE_LIMIT:
            sketch._densify()
        return sketch

    def copy(self) -> ReachSketch:
        duplicate = type(self)()
        if self._dense is None:
            duplicate._sparse = dict(self._sparse)
        else:
            duplicate._dense = bytearray(self._dense)
        return duplicate

    # -- updates --------------------------------------------------------------------------

    def add(self, digest: bytes) -> None:
        """Count one visitor digest; adding the same digest again changes nothing."""
        if len(digest) != DIGEST_SIZE:
            raise ValueError(
                f"a visitor digest is {DIGEST_SIZE} bytes (see visitor_digest), got {len(digest)}"
            )
        hashed = int.from_bytes(digest[:8], "big")
        index = hashed >> _RANK_BITS
        rank = _MAX_RANK - (hashed & _RANK_MASK).bit_length()
        dense = self._dense
        if dense is not None:
            if rank > dense[index]:
                dense[index] = rank
            return
        sparse = self._sparse
        if rank > sparse.get(index, 0):
            sparse[index] = rank
            if len(sparse) > SPARSE_LIMIT:
                self._densify()

    def merge(self, other: ReachSketch) -> None:
        """Fold ``other`` into this sketch (register-wise maximum); ``other`` is unchanged.

        Afterwards this sketch estimates the number of visitors in either sketch. Merging
        is commutative, associative and idempotent.
        """
        if other is self:
            return
        if other._dense is None:
            if self._dense is None:
                _merge_entries_into_sparse(self._sparse, other._sparse.items())
                if len(self._sparse) > SPARSE_LIMIT:
                    self._densify()
            else:
                _merge_entries_into_dense(self._dense, other._sparse.items())
            return
        registers = self._dense_registers()
        self._dense = bytearray(_register_max(registers, other._dense))
        self._sparse = {}

    @classmethod
    def union(cls, sketches: Iterable[ReachSketch | SerializedSketch]) -> ReachSketch:
        """A new sketch of every visitor in any of ``sketches`` (objects or stored bytes).

        Equal to merging them one by one into an empty sketch, layout included, but
        faster for a reach query over many cells: dense inputs are folded as big integers
        and converted back once, and stored sparse inputs are merged straight from their
        decoded entries without building a sketch each. Inputs are not modified. Raises
        ValueError on malformed serialized input.
        """
        sparse_registers: dict[int, int] = {}
        # The sparse inputs' registers once they outgrow SPARSE_LIMIT, as merge() would.
        dense_registers: bytearray | None = None
        dense_inputs_maximum: int | None = None
        for item in sketches:
            entries: Iterable[tuple[int, int]]
            if isinstance(item, ReachSketch):
                if item._dense is not None:
                    dense_inputs_maximum = _fold_dense(dense_inputs_maximum, item._dense)
                    continue
                entries = item._sparse.items()
            else:
                decoded = _decode(item)
                if isinstance(decoded, bytearray):
                    dense_inputs_maximum = _fold_dense(dense_inputs_maximum, decoded)
                    continue
                entries = decoded
            if dense_registers is not None:
                _merge_entries_into_dense(dense_registers, entries)
                continue
            _merge_entries_into_sparse(sparse_registers, entries)
            if len(sparse_registers) > SPARSE_LIMIT:
                dense_registers = _dense_from_sparse(sparse_registers)
                sparse_registers = {}
        result = cls()
        if dense_registers is not None:
            dense_inputs_maximum = _fold_dense(dense_inputs_maximum, dense_registers)
        if dense_inputs_maximum is None:
            result._sparse = sparse_registers
        else:
            result._dense = bytearray(dense_inputs_maximum.to_bytes(_REGISTER_COUNT, "big"))
            _merge_entries_into_dense(result._dense, sparse_registers.items())
        return result

    # -- reading --------------------------------------------------------------------------

    def estimate(self) -> int:
        """Estimated number of distinct visitors added (directly or through merges).

        Uses Ertl's improved estimator over the histogram of register values (see
        :func:`_estimate_from_histogram`). For small counts it coincides with linear
        counting on the m registers, m·ln(m / empty registers) — exact or off by one for
        tens of visitors — and it stays unbiased through the range where the classic
        "raw estimate, linear counting below 2.5·m" rule jumps (see that function).
        """
        if self._dense is None:
            histogram = [0] * (_MAX_RANK + 1)
            for rank, registers_at_rank in Counter(self._sparse.values()).items():
                histogram[rank] = registers_at_rank
            histogram[0] = _REGISTER_COUNT - len(self._sparse)
        else:
            histogram = _dense_histogram(self._dense)
        return round(_estimate_from_histogram(histogram))

    @property
    def is_sparse(self) -> bool:
        return self._dense is None

    def __len__(self) -> int:
        """Number of non-zero registers (not the estimate: collisions share a register)."""
        if self._dense is None:
            return len(self._sparse)
        return _REGISTER_COUNT - self._dense.count(0)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ReachSketch):
            return NotImplemented
        if self._dense is None and other._dense is None:
            return self._sparse == other._sparse
        return self._dense_registers() == other._dense_registers()

    __hash__ = None  # type: ignore[assignment]  # mutable: equal sketches may diverge later

    def __repr__(self) -> str:
        layout = "sparse" if self._dense is None else "dense"
        return f"<ReachSketch {layout}, registers set: {len(self)}>"

    # -- serialization --------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        """The stable stored form (see the module docstring, "Encoding")."""
        if self._dense is None:
            return bytes((ENCODING_VERSION, LAYOUT_SPARSE)) + _encode_sparse(self._sparse)
        layout, payload = LAYOUT_DENSE, bytes(self._dense)
        compressed = zlib.compress(payload, _ZLIB_LEVEL)
        if len(compressed) < len(payload):
            layout, payload = layout | COMPRESSED_FLAG, compressed
        return bytes((ENCODING_VERSION, layout)) + payload

    @classmethod
    def from_bytes(cls, data: SerializedSketch) -> ReachSketch:
        """Decode :meth:`to_bytes` output; ValueError on any malformed or foreign input.

        The stored layout is kept (see "Encoding" in the module docstring), so re-encoding
        gives back the same bytes.
        """
        decoded = _decode(data)
        sketch = cls()
        if isinstance(decoded, bytearray):
            sketch._dense = decoded
        else:
            sketch._sparse = dict(decoded)
        return sketch

    # -- internals ------------------------------------------------------------------------

    def _densify(self) -> None:
        self._dense = _dense_from_sparse(self._sparse)
        self._sparse = {}

    def _dense_registers(self) -> bytearray:
        """The registers as a dense array: the live one if dense, else a fresh copy."""
        if self._dense is not None:
            return self._dense
        return _dense_from_sparse(self._sparse)


def visitor_digest(visitor_key: str, *, secret: bytes) -> bytes:
    """The 16-byte digest :meth:`ReachSketch.add` expects for one visitor.

    Keyed BLAKE2b (digest_size=16) of the UTF-8 visitor key. The secret (1–64 bytes, kept
    out of logs and the database) makes digests unlinkable to raw visitor ids — nobody
    can hash a known id to test whether it is in a sketch — while the same visitor always
    yields the same digest under the same secret, which is what lets sketches merge.
    """
    if not secret:
        raise ValueError("visitor_digest needs a non-empty secret; unkeyed digests are linkable")
    return hashlib.blake2b(visitor_key.encode(), digest_size=DIGEST_SIZE, key=secret).digest()


def reach_of(serialized: Iterable[SerializedSketch]) -> int:
    """Estimated distinct visitors across stored sketches: union, then estimate."""
    return ReachSketch.union(serialized).estimate()


def reach_by_group[K: Hashable](
    items: Iterable[tuple[K, ReachSketch | SerializedSketch]],
) -> dict[K, int]:
    """The estimated reach of each key's sketches: ``{key: union(its sketches).estimate()}``.

    Exactly what :meth:`ReachSketch.union` then :meth:`ReachSketch.estimate` give per key
    (the same registers, the same estimator), but vectorised: every stored sparse sketch
    of every key is decoded and merged in a few NumPy operations instead of entry by
    entry in Python — a report's reach over 140 cells of ~400 registers each takes
    about 1 ms instead of 13. Keys come back in first-seen order. Raises ValueError on
    malformed serialized input, as :meth:`ReachSketch.from_bytes` does.
    """
    groups: dict[K, int] = {}
    merger = _GroupMerger()
    for key, item in items:
        group = groups.setdefault(key, len(groups))
        merger.add(group, item)
    estimates = merger.estimates(len(groups))
    return {key: estimates[group] for key, group in groups.items()}


class _GroupMerger:
    """Collects sketches per group number, then merges and estimates them with NumPy.

    Every input becomes (group·m + register index, rank) entries: sparse ones straight from
    their stored gap and rank bytes (joined once, decoded by one cumulative sum), dense
    ones from their non-zero registers. ``numpy.maximum.at`` then keeps each register's
    highest rank, and one pass over the registers gives the histogram the estimator needs.
    """

    # Groups are merged this many at a time: m bytes of registers each.
    CHUNK = 256

    def __init__(self) -> None:
        self.gaps: list[bytes] = []
        self.ranks: list[bytes] = []
        self.sparse_counts: list[int] = []
        self.sparse_groups: list[int] = []
        self.dense: list[tuple[int, bytes]] = []

    def add(self, group: int, item: ReachSketch | SerializedSketch) -> None:
        if isinstance(item, ReachSketch):
            if item._dense is not None:
                self.dense.append((group, bytes(item._dense)))
                return
            layout, payload = LAYOUT_SPARSE, _encode_sparse(item._sparse)
        else:
            layout, payload = _payload(item)
        if layout == LAYOUT_DENSE:
            self.dense.append((group, bytes(_decode_dense(payload))))
            return
        count, remainder = divmod(len(payload), _SPARSE_ENTRY_SIZE)
        if remainder or count > _REGISTER_COUNT:
            raise ValueError(f"sparse reach sketch payload has a bad length ({len(payload)} bytes)")
        if count:
            self.gaps.append(payload[: 2 * count])
            self.ranks.append(payload[2 * count :])
            self.sparse_counts.append(count)
            self.sparse_groups.append(group)

    def estimates(self, group_count: int) -> list[int]:
        """Each group's estimate, in group order (0 for a group of empty sketches)."""
        keys, ranks = self._entries()
        estimates: list[int] = []
        for first in range(0, group_count, self.CHUNK):
            rows = min(self.CHUNK, group_count - first)
            chunk_keys, chunk_ranks = keys, ranks
            if group_count > self.CHUNK:
                chosen = (keys >= first * _REGISTER_COUNT) & (
                    keys < (first + rows) * _REGISTER_COUNT
                )
                chunk_keys = keys[chosen] - first * _REGISTER_COUNT
                chunk_ranks = ranks[chosen]
            histograms = _histograms(rows, chunk_keys, chunk_ranks)
            estimates += [round(_estimate_from_histogram(h)) for h in histograms]
        return estimates

    def _entries(self) -> tuple[Any, Any]:
        """(group·m + register index, rank) of every entry of every input."""
        keys, ranks = self._sparse_entries()
        if not self.dense:
            return keys, ranks
        key_parts, rank_parts = [keys], [ranks]
        for group, dense in self.dense:
            registers = np.frombuffer(dense, dtype=np.uint8)
            set_indices = np.flatnonzero(registers != 0)
            key_parts.append(set_indices + group * _REGISTER_COUNT)
            rank_parts.append(registers[set_indices])
        return np.concatenate(key_parts), np.concatenate(rank_parts)

    def _sparse_entries(self) -> tuple[Any, Any]:
        """(group·m + register index, rank) of every sparse entry, validated as
        :func:`_decode_sparse` validates them."""
        joined_ranks = b"".join(self.ranks)
        if joined_ranks.translate(None, _VALID_SPARSE_RANK_BYTES):
            raise ValueError(f"sparse reach sketch rank outside 1…{_MAX_RANK}")
        ranks = np.frombuffer(joined_ranks, dtype=np.uint8)
        counts = np.array(self.sparse_counts, dtype=np.int64)
        gaps = np.frombuffer(b"".join(self.gaps), dtype=">u2").astype(np.int64)
        starts = np.cumsum(counts) - counts
        # Every gap but a sketch's first is at least 1 (indices strictly increase).
        if np.count_nonzero(gaps == 0) != np.count_nonzero(gaps[starts] == 0):
            raise ValueError("sparse reach sketch indices are not strictly increasing")
        # Indices are each sketch's running sum of gaps: the running sum over all of
        # them, less what the sketches before had summed; a sketch's last is its largest.
        running = np.cumsum(gaps)
        before = running[starts] - gaps[starts]
        if len(counts) and (running[starts + counts - 1] - before).max() >= _REGISTER_COUNT:
            raise ValueError("sparse reach sketch index out of range")
        offsets = np.array(self.sparse_groups, dtype=np.int64) * _REGISTER_COUNT - before
        return running + np.repeat(offsets, counts), ranks


def _histograms(rows: int, keys: Any, ranks: Any) -> list[list[int]]:
    """How many of each row's m registers hold each value 0…51, given entries (row·m +
    register index, rank) that may repeat a register.

    Each register keeps its highest rank (``maximum.at``); the set registers are then
    found by one sequential pass over the rows (a boolean mask: NumPy finds the non-zero
    entries of a bool array several times faster than of a uint8 one).
    """
    registers = np.zeros(rows * _REGISTER_COUNT, dtype=np.uint8)
    np.maximum.at(registers, keys, ranks)
    set_positions = np.flatnonzero(registers != 0)
    values = registers[set_positions].astype(np.int64)
    row_of = set_positions // _REGISTER_COUNT
    counts = np.bincount(row_of * 64 + values, minlength=rows * 64).reshape(rows, 64)
    counts[:, 0] = _REGISTER_COUNT - counts.sum(axis=1)
    return [row[: _MAX_RANK + 1].tolist() for row in counts]


def _dense_from_sparse(registers: dict[int, int]) -> bytearray:
    dense = bytearray(_REGISTER_COUNT)
    for index, rank in registers.items():
        dense[index] = rank
    return dense


def _merge_entries_into_sparse(target: dict[int, int], entries: Iterable[tuple[int, int]]) -> None:
    current = target.get
    for index, rank in entries:
        if rank > current(index, 0):
            target[index] = rank


def _merge_entries_into_dense(target: bytearray, entries: Iterable[tuple[int, int]]) -> None:
    for index, rank in entries:
        if rank > target[index]:
            target[index] = rank


def _fold_dense(maximum: int | None, registers: bytearray) -> int:
    """The running register-wise maximum of dense arrays, kept as one big integer."""
    as_int = int.from_bytes(registers, "big")
    return as_int if maximum is None else _register_max_of_ints(maximum, as_int)


def _register_max(left: bytes | bytearray, right: bytes | bytearray) -> bytes:
    """Byte-wise maximum of two dense register arrays."""
    maximum = _register_max_of_ints(int.from_bytes(left, "big"), int.from_bytes(right, "big"))
    return maximum.to_bytes(_REGISTER_COUNT, "big")


def _register_max_of_ints(left: int, right: int) -> int:
    """Byte-lane-wise maximum of two register arrays read as big-endian integers.

    Per lane, (left + 0x80) − right lies in 0x80 ± 51, so it never borrows from the next
    lane and its top bit says left ≥ right. Spreading that bit over the lane gives a mask
    selecting left where it is the larger and right elsewhere — a handful of big-int
    operations (~15 µs for 16 KiB) instead of 16 384 Python-level comparisons (~650 µs).
    """
    left_wins = ((left | _LANE_TOP_BITS) - right) & _LANE_TOP_BITS
    left_lanes = left_wins | (left_wins - (left_wins >> 7))
    return right ^ ((left ^ right) & left_lanes)


def _dense_histogram(registers: bytearray) -> list[int]:
    """How many registers hold each value 0…51, counting at C speed with ``bytes.count``."""
    histogram = [0] * (_MAX_RANK + 1)
    seen = 0
    # Register values cluster around log2(n/m); stop once every register is accounted for
    # instead of scanning for all 52 values.
    for value in range(_MAX_RANK + 1):
        if seen == _REGISTER_COUNT:
            break
        histogram[value] = registers.count(value)
        seen += histogram[value]
    return histogram


def _estimate_from_histogram(histogram: list[int]) -> float:
    """Ertl's improved HyperLogLog estimator (O. Ertl, "New cardinality estimation
    algorithms for HyperLogLog sketches", 2017, arXiv:1702.01284).

    ``histogram[v]`` is the number of registers holding v (0…q+1, q = 50 rank bits).

    Why not the 2007 estimator with its small-range correction (raw α·m²/Σ2^-register,
    linear counting while the raw value is ≤ 2.5·m): the raw estimate is still biased
    upwards where that rule hands over to it. Measured at m = 2^14 over 30 seeds, that rule
    averages +2.3 % (worst 3.4 %) at 41 000 visitors and +1.5 % at 45 000, outside the
    ≈ 0.8 % the sketch promises. This estimator folds the empty (σ) and saturated (τ)
    registers into the harmonic mean analytically: at every measured size from 1 to
    200 000 (30 seeds each) its mean error stays within ±0.25 % and its spread at
    ≈ 0.75 % or less, and up to ~1 000 visitors it rounds to the same count as linear
    counting. Only the estimate depends on
    this choice; the stored registers do not.
    """
    empty_registers = histogram[0]
    if empty_registers == _REGISTER_COUNT:
        return 0.0
    harmonic_sum = _REGISTER_COUNT * _tau(1 - histogram[_MAX_RANK] / _REGISTER_COUNT)
    for value in range(_RANK_BITS, 0, -1):
        harmonic_sum = 0.5 * (harmonic_sum + histogram[value])
    harmonic_sum += _REGISTER_COUNT * _sigma(empty_registers / _REGISTER_COUNT)
    return _ALPHA_INFINITY * _REGISTER_COUNT * _REGISTER_COUNT / harmonic_sum


def _sigma(x: float) -> float:
    """σ(x) = x + Σ_{k≥1} x^(2^k)·2^(k−1), summed until it stops changing (0 ≤ x < 1)."""
    power_weight = 1.0
    total = x
    while True:
        x *= x
        previous = total
        total += x * power_weight
        power_weight += power_weight
        if total == previous:
            return total


def _tau(x: float) -> float:
    """τ(x) = (1 − x − Σ_{k≥1} (1 − x^(2^−k))²·2^−k) / 3, summed until it stops changing."""
    if x in (0.0, 1.0):
        return 0.0
    weight = 1.0
    total = 1 - x
    while True:
        x = math.sqrt(x)
        previous = total
        weight *= 0.5
        total -= (1 - x) ** 2 * weight
        if total == previous:
            return total / 3


def _encode_sparse(registers: dict[int, int]) -> bytes:
    indices = sorted(registers)
    gaps = map(int.__sub__, indices, [0, *indices[:-1]])
    ranks = bytes(map(registers.__getitem__, indices))
    return struct.pack(f">{len(indices)}H", *gaps) + ranks


# A stored sketch decoded but not yet wrapped: sparse (index, rank) entries or the dense
# register array. union() merges the sparse entries without building a dict.
type _DecodedRegisters = Iterator[tuple[int, int]] | bytearray


def _decode(data: SerializedSketch) -> _DecodedRegisters:
    layout, payload = _payload(data)
    if layout == LAYOUT_SPARSE:
        return _decode_sparse(payload)
    return _decode_dense(payload)


def _payload(data: SerializedSketch) -> tuple[int, bytes]:
    """The layout and the (inflated) payload of a stored sketch, its header checked."""
    data = bytes(data)
    if len(data) < _HEADER_SIZE:
        raise ValueError("not a reach sketch: shorter than its 2-byte header")
    version, tag = data[0], data[1]
    if version != ENCODING_VERSION:
        raise ValueError(f"unsupported reach sketch encoding version {version}")
    layout = tag & ~COMPRESSED_FLAG
    if layout == LAYOUT_SPARSE:
        largest_payload = _SPARSE_ENTRY_SIZE * _REGISTER_COUNT
    elif layout == LAYOUT_DENSE:
        largest_payload = _REGISTER_COUNT
    else:
        raise ValueError(f"unknown reach sketch format tag {tag:#04x}")
    payload = data[_HEADER_SIZE:]
    if tag & COMPRESSED_FLAG:
        payload = _decompress(payload, largest_payload)
    return layout, payload


def _decode_sparse(payload: bytes) -> Iterator[tuple[int, int]]:
    """Validate a sparse payload and return its (index, rank) entries in index order."""
    entry_count, remainder = divmod(len(payload), _SPARSE_ENTRY_SIZE)
    if remainder or entry_count > _REGISTER_COUNT:
        raise ValueError(f"sparse reach sketch payload has a bad length ({len(payload)} bytes)")
    gaps = struct.unpack(f">{entry_count}H", payload[: 2 * entry_count])
    ranks = payload[2 * entry_count :]
    if 0 in gaps[1:]:
        raise ValueError("sparse reach sketch indices are not strictly increasing")
    # The last index is the sum of the gaps, and all gaps are non-negative.
    if sum(gaps) >= _REGISTER_COUNT:
        raise ValueError("sparse reach sketch index out of range")
    if ranks.translate(None, _VALID_SPARSE_RANK_BYTES):
        raise ValueError(f"sparse reach sketch rank outside 1…{_MAX_RANK}")
    # Lazy: union() merges the entries as they are produced, without an intermediate list.
    return zip(accumulate(gaps), ranks, strict=True)


def _decode_dense(payload: bytes) -> bytearray:
    if len(payload) != _REGISTER_COUNT:
        raise ValueError(
            f"dense reach sketch payload is {len(payload)} bytes, expected {_REGISTER_COUNT}"
        )
    if payload.translate(None, _VALID_REGISTER_BYTES):
        raise ValueError(f"dense reach sketch register outside 0…{_MAX_RANK}")
    return bytearray(payload)


def _decompress(payload: bytes, largest_payload: int) -> bytes:
    """Inflate a stored payload, refusing anything larger than a layout can be."""
    inflater = zlib.decompressobj()
    try:
        inflated = inflater.decompress(payload, largest_payload + 1)
    except zlib.error as error:
        raise ValueError(f"corrupt compressed reach sketch: {error}") from error
    # Bounded output plus these checks: a hostile stream cannot balloon in memory, and a
    # truncated or padded one is rejected rather than half-read.
    if len(inflated) > largest_payload or inflater.unconsumed_tail:
        raise ValueError("compressed reach sketch inflates beyond its layout's size")
    if not inflater.eof or inflater.unused_data:
        raise ValueError("compressed reach sketch is truncated or has trailing bytes")
    return inflated
