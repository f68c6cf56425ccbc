"""Counting the source images a dataset leaves out, and saying so once per load.

Datasets skip grayscale, too small and unreadable images instead of failing. A
`SkipReport` collects those skips (thread-safe: folders are decoded in a thread pool and
`tf.data` calls back from its own threads) and emits a single
`kcolor.data.errors.SkippedImagesWarning` with the counts when `SkipReport.report`
is called, however often that happens. `select_usable` is the loop that local sources
share: keep the usable images up to a limit, count the rest, fail when nothing is left.
"""

from __future__ import annotations

import collections
import threading
import warnings
from collections.abc import Iterable
from typing import TypeVar

from kcolor.data.errors import DatasetError, SkippedImagesWarning

Item = TypeVar("Item")

_MAX_EXAMPLES = 3


class SkipReport:
    """Counts skipped source images by reason and reports them in one warning.

    Args:
        source: how the dataset is named in the message, e.g. `"folder:photos (train)"`.

    Example:
        >>> report = SkipReport("folder:photos (train)")
        >>> report.skip("grayscale")
        >>> report.skip("unreadable", "a.jpg: file is empty (0 bytes)")
        >>> report.summary()
        '2 images skipped: 1 grayscale, 1 unreadable (e.g. a.jpg: file is empty (0 bytes))'
        >>> report.report()  # warns once; later calls do nothing
    """

    def __init__(self, source: str):
        self.source = source
        self._counts: collections.Counter[str] = collections.Counter()
        self._examples: list[str] = []
        self._lock = threading.Lock()
        self._reported = False

    def skip(self, reason: str, detail: str | None = None) -> None:
        """Count one skipped image; `detail` (e.g. a file and error) is quoted for the first few."""
        with self._lock:
            self._counts[reason] += 1
            if detail and len(self._examples) < _MAX_EXAMPLES:
                self._examples.append(detail)

    @property
    def counts(self) -> dict[str, int]:
        """The number of skipped images per reason."""
        with self._lock:
            return dict(self._counts)

    @property
    def total(self) -> int:
        """The number of skipped images."""
        return sum(self.counts.values())

    def summary(self) -> str:
        """One line such as `"3 images skipped: 2 grayscale, 1 unreadable"`."""
        counts = self.counts
        total = sum(counts.values())
        text = f"{total} image{'s' if total != 1 else ''} skipped: " + ", ".join(
            f"{count} {reason}" for reason, count in sorted(counts.items())
        )
        if self._examples:
            text += f" (e.g. {'; '.join(self._examples)})"
        return text

    def report(self) -> None:
        """Warn once with `summary` when anything was skipped; later calls do nothing."""
        with self._lock:
            if self._reported or not self._counts:
                return
            self._reported = True
        warnings.warn(f"{self.source}: {self.summary()}", SkippedImagesWarning, stacklevel=2)


def select_usable(
    outcomes: Iterable[tuple[Item, str | None, str | None]], description: str, *, limit: int | None = None
) -> list[Item]:
    """Keep the usable items of a source, counting and reporting the skipped ones.

    Args:
        outcomes: `(item, skip reason or None, detail or None)` per candidate image, consumed
            lazily (nothing past `limit` usable items is examined).
        description: how the dataset is named in messages.
        limit: stop after this many usable items.

    Returns:
        The usable items, in order.

    Raises:
        DatasetError: no item is usable; the message carries the skip counts.

    Warns:
        SkippedImagesWarning: once, when anything was skipped.

    Example:
        >>> select_usable([("a", None, None), ("b", "grayscale", None)], "demo")
        ['a']
    """
    report = SkipReport(description)
    kept = []
    for item, reason, detail in outcomes:
        if reason is not None:
            report.skip(reason, detail)
            continue
        kept.append(item)
        if limit is not None and len(kept) >= limit:
            break
    if not kept:
        raise DatasetError(f"{description}: no usable images, {report.summary()}")
    report.report()
    return kept
