"""Batches of NumPy arrays without TensorFlow: a `keras.utils.PyDataset` for every backend.

When TensorFlow is not installed (e.g. JAX users), `sample`, `folder:` and `npz:`
datasets are served by `NumpyBatches`, which `keras.Model.fit` accepts directly and
which can also be iterated in a plain `for` loop (each complete pass is one epoch). A
*sampler* decides what the items of an epoch are: `ImageSourceSampler` shuffles and
crops a `kcolor.data.sources.ImageSource` (preprocessing stage two),
`kcolor.data.sample.SampleSampler` renders sample crops. The `tf.data` path reuses
`NumpyBatches` for `sample` and `ImageSourceSampler` for `folder:` and `npz:`
(one call per batch), and `kcolor train` reads every local dataset through these samplers. This
module imports Keras, so it is imported lazily.

The random crop positions and flips of `ImageSourceSampler` come from `item_uniforms`,
a counter-based generator: every item's numbers are a hash of `(seed, epoch, position)`, computed
for a whole batch with a few NumPy operations. Creating a NumPy generator per item instead cost
about 20 us, more than the crop itself at 32 px.
"""

from __future__ import annotations

import math
import threading
from typing import Protocol

import keras
import numpy as np

from kcolor.data.options import LoadOptions
from kcolor.data.preprocessing_rules import crop_placement
from kcolor.data.sources import ImageSource


class Sampler(Protocol):
    """What `NumpyBatches` needs from a dataset: items addressed by epoch and position."""

    num_items: int
    has_labels: bool

    def items(self, epoch: int, positions: range) -> tuple[np.ndarray, np.ndarray]:
        """`(uint8 images (k, S, S, 3), int64 labels (k,))` for the positions of an epoch."""


class ImageSourceSampler:
    """Shuffles and crops an image source epoch by epoch, reproducibly for a seed.

    Args:
        source: the decoded source images (shorter side = `options.image_size`).
        options: `image_size`; `shuffle` (a new random order every epoch); `augment`
            (random crop position and left-right flip with p = 0.5, else center crops);
            `seed` (fixes orders and crops; None draws a random seed).

    Example:
        ```python
        options = LoadOptions(32, 128, seed=0, shuffle=True, augment=True)
        sampler = ImageSourceSampler(source, options)
        images, labels = sampler.items(epoch=0, positions=range(8))
        ```
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
        """The source indices in the order of an epoch.

        Args:
            epoch: the epoch (any integer).

        Returns:
            A permutation of the source indices (their own order without `shuffle`).

        Example:
            ```python
            sampler.order(0)[:4]  # array([17, 3, 40, 8])
            ```
        """
        if not self.shuffle:
            return np.arange(self.num_items)
        with self._lock:
            if epoch not in self._orders:
                self._orders = {epoch: np.random.default_rng([self.seed, epoch]).permutation(self.num_items)}
            return self._orders[epoch]

    def items(self, epoch: int, positions: range) -> tuple[np.ndarray, np.ndarray]:
        """Crop the items at `positions` of `epoch`.

        Each square is placed by `kcolor.data.preprocessing_rules.crop_placement`, from the
        item's `item_uniforms` when augmenting (else in the center), so an item's crop depends
        only on the seed, the epoch and its position, not on which other items are asked for
        with it.

        Args:
            epoch: the epoch (any integer).
            positions: consecutive positions within the epoch.

        Returns:
            `(uint8 images (k, S, S, 3), int64 labels (k,))`.

        Example:
            ```python
            images, labels = sampler.items(epoch=0, positions=range(8))
            ```
        """
        size = self.image_size
        indices = self.order(epoch)[positions.start : positions.stop]
        sources = [self.source.image(index) for index in indices]
        heights = np.array([image.shape[0] for image in sources], np.int64)
        widths = np.array([image.shape[1] for image in sources], np.int64)
        uniforms = item_uniforms(self.seed, epoch, np.arange(positions.start, positions.stop), 3).T if self.augment else None
        tops, lefts, flips = crop_placement(heights, widths, size, uniforms)
        flips = np.broadcast_to(flips, heights.shape)
        images = np.empty((len(indices), size, size, 3), np.uint8)
        for slot, (image, top, left, flip) in enumerate(zip(sources, tops, lefts, flips)):
            square = image[top : top + size, left : left + size]
            if flip:
                # Flip whole 3-byte pixels: half the time of copying square[:, ::-1] byte by byte.
                images[slot].view("V3")[..., 0] = square.view("V3")[..., 0][:, ::-1]
            else:
                images[slot] = square
        return images, self.source.labels[indices]


_GOLDEN_GAMMA = np.uint64(0x9E3779B97F4A7C15)


def _splitmix64(values: np.ndarray) -> np.ndarray:
    """SplitMix64's output function on an array of `uint64` (arithmetic wraps modulo 2**64)."""
    values = values + _GOLDEN_GAMMA
    values = (values ^ (values >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    values = (values ^ (values >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return values ^ (values >> np.uint64(31))


def item_uniforms(seed: int, epoch: int, positions: np.ndarray, count: int) -> np.ndarray:
    """`count` uniform numbers in [0, 1) for each position, fixed by `(seed, epoch, position)`.

    A counter-based generator: SplitMix64's mixing function hashes the seed, the epoch and each
    `(position, column)` pair, so a batch's numbers take a few array operations and any item's
    numbers can be computed without the others'.

    Args:
        seed: a non-negative integer (taken modulo 2**64).
        epoch: an integer (taken modulo 2**64).
        positions: integer positions of the items in their epoch, shape `(k,)`.
        count: numbers per item.

    Returns:
        `float64 (k, count)`.

    Example:
        ```python
        item_uniforms(0, 0, np.arange(2), 3).round(3)
        # array([[0.656, 0.92 , 0.076],
        #        [0.534, 0.761, 0.527]])
        ```
    """
    key = np.array([seed % 2**64], np.uint64)
    key = _splitmix64(_splitmix64(key) ^ np.array([epoch % 2**64], np.uint64))
    counters = np.asarray(positions, np.uint64)[:, None] * np.uint64(count) + np.arange(count, dtype=np.uint64)
    bits = _splitmix64(key ^ _splitmix64(counters))
    return (bits >> np.uint64(11)).astype(np.float64) * 2.0**-53


class NumpyBatches(keras.utils.PyDataset):
    """Batches of `uint8` images (optionally with `int64` labels) as NumPy arrays.

    Works with `keras.Model.fit` under any backend (Keras calls `on_epoch_end` between
    epochs) and with `for batch in batches` (a complete pass also ends the epoch).

    Args:
        sampler: provides the items of each epoch (see `Sampler`).
        options: `batch_size`, `with_labels` (yield `(images, labels)` instead of
            `images`) and `drop_remainder` (leave out a last, smaller batch).

    Example:
        ```python
        batches = NumpyBatches(SampleSampler("train", 32, seed=0, augment=True), LoadOptions(32, 128))
        next(iter(batches)).shape
        # (128, 32, 32, 3)
        ```
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
