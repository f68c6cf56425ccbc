"""The validated batching options that every pipeline (NumPy or `tf.data`) receives.

`kcolor.data.load_dataset` checks its arguments once, resolves the split-dependent
defaults (shuffle and augment for `"train"` only) and hands one `LoadOptions` to the
source-specific builders, so they never re-validate or re-derive anything.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from kcolor.data.errors import DatasetError


@dataclasses.dataclass(frozen=True)
class LoadOptions:
    """How to turn source images into batches.

    Attributes:
        image_size: side of the square output images.
        batch_size: images per batch.
        seed: fixes order and crops; None is random.
        shuffle: reshuffle every epoch.
        augment: random crop positions and left-right flips (else center crops).
        with_labels: yield `(images, labels)` instead of `images`.
        drop_remainder: leave out a last, smaller batch.
    """

    image_size: int
    batch_size: int
    seed: int | None = None
    shuffle: bool = False
    augment: bool = False
    with_labels: bool = False
    drop_remainder: bool = False

    def __post_init__(self):
        check_positive_count("image_size", self.image_size)
        check_positive_count("batch_size", self.batch_size)
        seed = self.seed
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
            raise DatasetError(f"seed must be a non-negative integer or None; got {seed!r}")
        if seed is not None:
            object.__setattr__(self, "seed", int(seed))  # NumPy integers become plain ints

    @property
    def deterministic(self) -> bool:
        """Whether element order must be kept: with a seed, or when nothing is shuffled."""
        return self.seed is not None or not self.shuffle


def check_positive_count(name: str, value) -> None:
    """Raise a `kcolor.data.errors.DatasetError` unless `value` is an integer > 0."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise DatasetError(f"{name} must be a positive integer; got {value!r}")
