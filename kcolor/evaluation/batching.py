"""Batched iteration with a progress bar for the evaluation tools.

Evaluating thousands of images on the host must not convert them all to
float64 at once (10,000 CIFAR images are 250 MB as float64 Lab). The helpers
here walk over a data set in fixed-size batches, show progress with `tqdm`
when it is installed (Keras' `Progbar` otherwise) and collect per-image
values as float32.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator

import numpy as np

from kcolor.evaluation.validation import check_batch_size

DEFAULT_BATCH_SIZE = 256


def batch_slices(num_items: int, batch_size: int) -> Iterator[slice]:
    """Yields consecutive slices that cover `range(num_items)`.

    Args:
        num_items: Number of items to cover.
        batch_size: Maximum length of each slice.

    Returns:
        An iterator of slices; the last one may be shorter.

    Example:
        >>> list(batch_slices(5, 2))
        [slice(0, 2, None), slice(2, 4, None), slice(4, 5, None)]
    """
    batch_size = check_batch_size(batch_size)
    for start in range(0, num_items, batch_size):
        yield slice(start, min(start + batch_size, num_items))


class ProgressBar:
    """A minimal progress bar over a number of images.

    Uses `tqdm.auto` when available (it renders as a widget in notebooks),
    falls back to `keras.utils.Progbar`, and does nothing when disabled.

    Args:
        total: Number of items to process.
        description: Short text shown before the bar.
        enabled: When False nothing is displayed.

    Example:
        >>> with ProgressBar(100, "metrics", enabled=False) as progress:
        ...     progress.update(100)
    """

    def __init__(self, total: int, description: str = "", enabled: bool = True):
        self._bar = None
        self._keras_bar = None
        self._done = 0
        if not enabled:
            return
        try:
            from tqdm.auto import tqdm
        except ImportError:
            import keras

            print(description, file=sys.stderr)
            self._keras_bar = keras.utils.Progbar(total, unit_name="image")
        else:
            self._bar = tqdm(total=total, desc=description, unit="image", leave=False)

    def update(self, count: int) -> None:
        """Advances the bar by `count` items."""
        self._done += count
        if self._bar is not None:
            self._bar.update(count)
        elif self._keras_bar is not None:
            self._keras_bar.update(self._done)

    def close(self) -> None:
        """Removes or finishes the bar."""
        if self._bar is not None:
            self._bar.close()

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exception_info) -> None:
        self.close()


def map_batches(
    function: Callable[..., np.ndarray],
    *arrays: np.ndarray,
    batch_size: int = DEFAULT_BATCH_SIZE,
    description: str = "",
    verbose: bool = False,
) -> np.ndarray:
    """Applies a per-batch function to aligned arrays and concatenates the results.

    Args:
        function: Called as `function(*batches)` on aligned slices of
            `arrays`; returns an array whose first axis is the batch.
        *arrays: Arrays with the same length along the first axis.
        batch_size: Number of items per call.
        description: Progress bar text.
        verbose: Whether to show a progress bar.

    Returns:
        The concatenated results as float32.

    Example:
        >>> map_batches(lambda x: x.mean(axis=(1, 2, 3)), np.ones((3, 2, 2, 3)), batch_size=2)
        array([1., 1., 1.], dtype=float32)
    """
    num_items = len(arrays[0])
    results = []
    with ProgressBar(num_items, description, enabled=verbose) as progress:
        for batch in batch_slices(num_items, batch_size):
            results.append(np.asarray(function(*(array[batch] for array in arrays)), np.float32))
            progress.update(batch.stop - batch.start)
    return np.concatenate(results)
