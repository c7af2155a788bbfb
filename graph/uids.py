"""Uids by node index without a Python string per node: one numpy bytes array, binary-searched through a sort order."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, overload

import numpy as np
import numpy.typing as npt

_RECENT = 4096  # uids added since the last sort that are looked up in a dict before it is rebuilt


class UidTable(Sequence[str]):
    """Uids by node index (UTF-8, fixed width), looked up by binary search through their sort order.

    Millions of nodes cost their bytes and 12 bytes of index each, not a str and a dict entry
    (≈ 150 bytes); uids added since the last sort wait in a small dict until enough pile up.
    """

    def __init__(self, by_index: npt.NDArray[np.bytes_] | None = None,
                 order: npt.NDArray[np.int32] | None = None) -> None:
        self._by_index = by_index if by_index is not None else np.zeros(0, dtype="S1")
        self._size = len(self._by_index)
        self._order = order if order is not None else np.zeros(0, dtype=np.int32)
        self._recent: dict[str, int] = {}
        if order is None:
            self.sort()

    # ── Sequence ───────────────────────────────────────────────────────────────
    def __len__(self) -> int:
        return self._size

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> list[str]: ...
    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [b.decode() for b in self._by_index[: self._size][index].tolist()]
        if index >= self._size or index < -self._size:
            raise IndexError(index)
        return self._by_index[index].decode()

    def __iter__(self) -> Iterator[str]:
        for start in range(0, self._size, 65_536):
            yield from (b.decode() for b in self._by_index[start : min(start + 65_536, self._size)].tolist())

    def __contains__(self, uid: object) -> bool:
        return isinstance(uid, str) and self.get(uid) is not None

    # ── lookups ────────────────────────────────────────────────────────────────
    def get(self, uid: str) -> int | None:
        """The node index of ``uid``, or None."""
        found = self._recent.get(uid)
        if found is not None:
            return found
        key = uid.encode()
        if len(key) > self._by_index.dtype.itemsize:
            return None
        n = len(self._order)
        at = int(np.searchsorted(self._by_index[:n], key, sorter=self._order))
        if at < n and self._by_index[self._order[at]] == key:
            return int(self._order[at])
        return None

    def get_many(self, uids: Sequence[str]) -> npt.NDArray[np.int64]:
        """Node indices of many uids at once, -1 for the unknown."""
        out = np.full(len(uids), -1, dtype=np.int64)
        if not uids:
            return out
        keys = np.array([u.encode() for u in uids], dtype=f"S{max(self._by_index.dtype.itemsize, 1)}")
        n = len(self._order)
        if n:
            at = np.minimum(np.searchsorted(self._by_index[:n], keys, sorter=self._order), n - 1)
            hit = self._by_index[self._order[at]] == keys
            out[hit] = self._order[at[hit]]
        if self._recent:
            for i in np.flatnonzero(out < 0).tolist():
                out[i] = self._recent.get(uids[i], -1)
        return out

    def starting_with(self, prefix: str, limit: int | None = None) -> list[str]:
        """Uids that start with ``prefix``, in sorted order (at most ``limit``)."""
        key = prefix.encode()
        n = len(self._order)
        lo = int(np.searchsorted(self._by_index[:n], key, sorter=self._order))
        hi = n if limit is None else min(n, lo + limit)
        found = [b.decode() for b in self._by_index[self._order[lo:hi]].tolist() if b.startswith(key)]
        found += [u for u in self._recent if u.startswith(prefix)]
        return sorted(found)[:limit]

    def mask(self, prefix: str) -> npt.NDArray[np.bool_]:
        """Per node index, whether its uid starts with ``prefix``."""
        return np.char.startswith(self._by_index[: self._size], prefix.encode())

    # ── growing ────────────────────────────────────────────────────────────────
    def append(self, uids: Iterable[str], *, index: bool = True) -> None:
        """Add uids for the next node indices; ``index=False`` defers sorting to a later ``sort()``."""
        new = np.array([u.encode() for u in uids])
        if not len(new):
            return
        width = max(self._by_index.dtype.itemsize, new.dtype.itemsize)
        need = self._size + len(new)
        if need > len(self._by_index) or width > self._by_index.dtype.itemsize:
            grown = np.zeros(max(need, 2 * len(self._by_index), 1024), dtype=f"S{width}")
            grown[: self._size] = self._by_index[: self._size]
            self._by_index = grown
        start = self._size
        self._by_index[start:need] = new
        self._size = need
        if index:
            self._recent.update(zip((b.decode() for b in new.tolist()), range(start, need), strict=True))
            if len(self._recent) > max(_RECENT, self._size // 8):
                self.sort()

    def sort(self) -> None:
        """Rebuild the sorted copy over every uid (and empty the dict of recent ones)."""
        by_index = self._by_index[: self._size]
        self._order = np.argsort(by_index, kind="stable").astype(np.int32)
        self._recent = {}

    def fit(self) -> None:
        """Drop the slack that geometric growth left."""
        self._by_index = self._by_index[: self._size].copy()

    def arrays(self) -> tuple[npt.NDArray[np.bytes_], npt.NDArray[np.int32]]:
        """The uids by index and the index order that sorts them (for a snapshot); sorts first if needed."""
        if self._recent or len(self._order) != self._size:
            self.sort()
        return self._by_index[: self._size], self._order

    @property
    def nbytes(self) -> int:
        return int(self._by_index.nbytes + self._order.nbytes)
