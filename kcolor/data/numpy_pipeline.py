"""Batches of NumPy arrays without TensorFlow: a ``keras.utils.PyDataset`` for every backend.

When TensorFlow is not installed (e.g. JAX users), ``sample``, ``folder:`` and ``npz:``
datasets are served by :class:`NumpyBatches`, which ``keras.Model.fit`` accepts directly and
which can also be iterated in a plain ``for`` loop (each complete pass is one epoch). A
*sampler* decides what the items of an epoch are: :class:`ImageSourceSampler` shuffles and
crops an :class:`~kcolor.data.sources.ImageSource` (preprocessing stage two),
:class:`~kcolor.data.sample.SampleSampler` renders sample crops. The ``tf.data`` path reuses
:class:`NumpyBatches` for ``sample``. This module imports Keras, so it is imported lazily.
"""

from __future__ import annotations

import math
import threading
from typing import Protocol

import keras
import numpy as np

from kcolor.data.options import LoadOptions
from kcolor.data.preprocessing import crop_square
from kcolor.data.sources import ImageSource


class Sampler(Protocol):
    """What :class:`NumpyBatches` needs from a dataset: items addressed by epoch and position."""

    num_items: int
    has_labels: bool

    def items(self, epoch: int, positions: range) -> tuple[np.ndarray, np.ndarray]:
        """``(uint8 images (k, S, S, 3), int64 labels (k,))`` for the positions of an epoch."""


class ImageSourceSampler:
    """Shuffles and crops an image source epoch by epoch, reproducibly for a seed.

    Args:
        source: the decoded source images (shorter side = ``options.image_size``).
        options: ``image_size``; ``shuffle`` (a new random order every epoch); ``augment``
            (random crop position and left-right flip with p = 0.5, else center crops);
            ``seed`` (fixes orders and crops; None draws a random seed).

    Example:
        >>> options = LoadOptions(32, 128, seed=0, shuffle=True, augment=True)
        >>> sampler = ImageSourceSampler(source, options)
        >>> images, labels = sampler.items(epoch=0, positions=range(8))
    """

    def __init__(self, source: ImageSource, options: LoadOptions):
        self.source = source
        self.image_size = options.image_size
        self.num_items = len(source)
        self.has_labels = source.has_labels
        self.shuffle = options.shuffle
        self.augment = options.augment
        self.seed = int(np.random.SeedSequence().entropy % 2**63) if options.seed is None else options.seed
        self._orders: dict[int, np.ndarray] = {}
        self._lock = threading.Lock()

    def order(self, epoch: int) -> np.ndarray:
        """The source indices in the order of an epoch."""
        if not self.shuffle:
            return np.arange(self.num_items)
        with self._lock:
            if epoch not in self._orders:
                self._orders = {epoch: np.random.default_rng([self.seed, epoch]).permutation(self.num_items)}
            return self._orders[epoch]

    def items(self, epoch: int, positions: range) -> tuple[np.ndarray, np.ndarray]:
        """Crop the items at ``positions`` of ``epoch``: ``(uint8 images, int64 labels)``."""
        indices = self.order(epoch)[positions.start : positions.stop]
        images = np.empty((len(indices), self.image_size, self.image_size, 3), np.uint8)
        for slot, (position, index) in enumerate(zip(positions, indices)):
            rng = np.random.default_rng([self.seed, epoch, position, 1]) if self.augment else None
            images[slot] = crop_square(self.source.image(index), self.image_size, rng)
        return images, self.source.labels[indices]


class NumpyBatches(keras.utils.PyDataset):
    """Batches of ``uint8`` images (optionally with ``int64`` labels) as NumPy arrays.

    Works with ``keras.Model.fit`` under any backend (Keras calls :meth:`on_epoch_end` between
    epochs) and with ``for batch in batches`` (a complete pass also ends the epoch).

    Args:
        sampler: provides the items of each epoch (see :class:`Sampler`).
        options: ``batch_size``, ``with_labels`` (yield ``(images, labels)`` instead of
            ``images``) and ``drop_remainder`` (leave out a last, smaller batch).

    Example:
        >>> batches = NumpyBatches(SampleSampler("train", 32, seed=0, augment=True), LoadOptions(32, 128))
        >>> next(iter(batches)).shape
        (128, 32, 32, 3)
    """

    def __init__(self, sampler: Sampler, options: LoadOptions):
        super().__init__(workers=1, use_multiprocessing=False)
        self.sampler = sampler
        self.batch_size = options.batch_size
        self.with_labels = options.with_labels
        self.drop_remainder = options.drop_remainder
        self.epoch = 0

    def __len__(self) -> int:
        if self.drop_remainder:
            return self.sampler.num_items // self.batch_size
        return math.ceil(self.sampler.num_items / self.batch_size)

    def __getitem__(self, index: int):
        if not 0 <= index < len(self):
            raise IndexError(f"batch {index} is out of range for {len(self)} batches")
        start = index * self.batch_size
        positions = range(start, min(start + self.batch_size, self.sampler.num_items))
        images, labels = self.sampler.items(self.epoch, positions)
        return (images, labels) if self.with_labels else images

    def __iter__(self):
        for index in range(len(self)):
            yield self[index]
        self.on_epoch_end()

    def on_epoch_end(self) -> None:
        """Move to the next epoch (new order and crops when shuffling or augmenting)."""
        self.epoch += 1
