"""The offline `sample` dataset: random crops of color photos that installed packages ship.

Eight real photos come with scikit-image (astronaut, coffee, chelsea the cat, a rocket launch,
an immunohistochemistry slide, a retina, a motorcycle) and matplotlib (Grace Hopper); they are
read from the installed packages' folders, never downloaded. Each photo is cut once along its
longer axis: the last `SAMPLE_VALIDATION_FRACTION` is its validation region, the rest its
training region (`sample_regions`). A crop is a square window inside one region, so
training and validation pixels never overlap. Crops pick a photo uniformly, a window side
log-uniformly between `max(image_size / 2, region / 8)` and the region's shorter side (so
windows are scaled down, or at most 2x up when the region allows), reject mostly colorless
windows (black retina corners), and are resized to `image_size`; training crops are also
flipped left-right with probability 0.5.

An epoch has `SAMPLE_TRAIN_CROPS` training or `SAMPLE_VALIDATION_CROPS` validation
crops (`limit` changes it). With augmentation (the default for training) every epoch draws
new crops; the sequence is fixed by the seed. Validation crops are the same every epoch and
use seed 0 unless a seed is given. Crops are rendered batch by batch, so memory stays small at
256 px; the decoded photos are cached once per process.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
import math
import os
import threading

import numpy as np
from PIL import Image

from kcolor.data.errors import DatasetError, ImageReadError
from kcolor.data.images import read_image

SAMPLE_TRAIN_CROPS = 1536
"""Training crops per epoch (12 batches of 128)."""

SAMPLE_VALIDATION_CROPS = 384
"""Validation crops (3 batches of 128)."""

SAMPLE_VALIDATION_FRACTION = 0.25
"""Share of each photo's longer side that is reserved for validation."""

_PHOTO_FILES = (
    ("astronaut", "skimage", "data/astronaut.png"),
    ("coffee", "skimage", "data/coffee.png"),
    ("chelsea", "skimage", "data/chelsea.png"),
    ("rocket", "skimage", "data/rocket.jpg"),
    ("immunohistochemistry", "skimage", "data/ihc.png"),
    ("retina", "skimage", "data/retina.jpg"),
    ("motorcycle", "skimage", "data/motorcycle_left.png"),
    ("grace_hopper", "matplotlib", "mpl-data/sample_data/grace_hopper.jpg"),
)
_COLORFUL_SPREAD = 12  # a pixel is "colorful" when its channels differ by more than this
_MIN_COLORFUL_FRACTION = 0.3
_MAX_ATTEMPTS = 10


@dataclasses.dataclass(frozen=True)
class Box:
    """A rectangle of pixels: rows `top:top + height`, columns `left:left + width`."""

    top: int
    left: int
    height: int
    width: int

    @property
    def bottom(self) -> int:
        return self.top + self.height

    @property
    def right(self) -> int:
        return self.left + self.width

    def contains(self, other: Box) -> bool:
        """True when `other` lies entirely inside this box."""
        return self.top <= other.top and self.left <= other.left and other.bottom <= self.bottom and other.right <= self.right

    def intersects(self, other: Box) -> bool:
        """True when the two boxes share at least one pixel."""
        return self.top < other.bottom and other.top < self.bottom and self.left < other.right and other.left < self.right


@dataclasses.dataclass(frozen=True)
class SamplePhoto:
    """One decoded source photo of the sample set (pixels are read-only)."""

    name: str
    pixels: np.ndarray
    image: Image.Image
    colorful_table: np.ndarray  # summed-area table of colorful pixels, shape (H + 1, W + 1)

    def colorful_fraction(self, box: Box) -> float:
        table = self.colorful_table
        total = table[box.bottom, box.right] - table[box.top, box.right] - table[box.bottom, box.left] + table[box.top, box.left]
        return float(total) / (box.height * box.width)


@dataclasses.dataclass(frozen=True)
class SampleCrop:
    """One planned crop: a square window of a photo, optionally flipped."""

    photo_index: int
    top: int
    left: int
    side: int
    flip: bool

    @property
    def box(self) -> Box:
        return Box(self.top, self.left, self.side, self.side)


@functools.lru_cache(maxsize=1)
def sample_photos() -> tuple[SamplePhoto, ...]:
    """The decoded sample photos, read once per process from the installed packages.

    Returns:
        The photos that could be found (all eight in a normal installation).

    Raises:
        DatasetError: fewer than two photos could be read.
    """
    photos = []
    for name, package, relative_path in _PHOTO_FILES:
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            continue
        path = os.path.join(list(spec.submodule_search_locations)[0], relative_path)
        try:
            pixels = read_image(path)
        except ImageReadError:
            continue
        pixels.setflags(write=False)
        spread = pixels.max(axis=-1).astype(np.int32) - pixels.min(axis=-1)
        table = np.zeros((pixels.shape[0] + 1, pixels.shape[1] + 1), np.int32)
        table[1:, 1:] = (spread > _COLORFUL_SPREAD).cumsum(axis=0).cumsum(axis=1)
        photos.append(SamplePhoto(name, pixels, Image.fromarray(pixels), table))
    if len(photos) < 2:
        raise DatasetError(
            "the 'sample' dataset needs the photos shipped with scikit-image and matplotlib, but only "
            f"{len(photos)} could be read; reinstall them, or use 'folder:PATH' with your own photos"
        )
    return tuple(photos)


def sample_regions(split: str) -> tuple[Box, ...]:
    """The region of each sample photo that a split may crop from (one box per photo).

    Args:
        split: `"train"` or `"validation"` (`"test"` means validation).

    Returns:
        Boxes in photo pixel coordinates, in the order of `sample_photos`. The train and
        validation boxes of a photo never intersect.

    Example:
        >>> sample_regions("validation")[0]
        Box(top=0, left=384, height=512, width=128)
    """
    regions = []
    for photo in sample_photos():
        height, width = photo.pixels.shape[:2]
        long_side = max(height, width)
        boundary = long_side - round(long_side * SAMPLE_VALIDATION_FRACTION)
        if width >= height:
            train, validation = Box(0, 0, height, boundary), Box(0, boundary, height, width - boundary)
        else:
            train, validation = Box(0, 0, boundary, width), Box(boundary, 0, height - boundary, width)
        regions.append(train if split == "train" else validation)
    return tuple(regions)


def plan_sample_crops(
    split: str, count: int, image_size: int, *, seed: int = 0, epoch: int = 0, flip: bool = False
) -> list[SampleCrop]:
    """Choose `count` crop windows for a split (see the module docstring for the rules).

    Args:
        split: `"train"` or `"validation"`.
        count: how many crops.
        image_size: the output size; it bounds how far windows are scaled up.
        seed: with `epoch` (and the split), fixes the plan.
        epoch: a different epoch gives different crops.
        flip: flip each crop left-right with probability 0.5.

    Returns:
        The planned crops; each window lies inside `sample_regions` of its photo.

    Example:
        >>> plan_sample_crops("train", 2, 32, seed=1)[0]
        SampleCrop(photo_index=3, top=22, left=3, side=385, flip=False)
    """
    photos = sample_photos()
    regions = sample_regions(split)
    rng = np.random.default_rng([seed, epoch, 0 if split == "train" else 1])
    crops = []
    for _ in range(count):
        photo_index = int(rng.integers(len(photos)))
        region = regions[photo_index]
        largest = min(region.height, region.width)
        smallest = min(largest, max(math.ceil(image_size / 2), largest // 8))
        for _attempt in range(_MAX_ATTEMPTS):
            side = min(largest, max(smallest, round(math.exp(rng.uniform(math.log(smallest), math.log(largest))))))
            top = region.top + int(rng.integers(0, region.height - side + 1))
            left = region.left + int(rng.integers(0, region.width - side + 1))
            window = Box(top, left, side, side)
            if photos[photo_index].colorful_fraction(window) >= _MIN_COLORFUL_FRACTION:
                break
        crops.append(SampleCrop(photo_index, top, left, side, flip and bool(rng.random() < 0.5)))
    return crops


_REDUCING_GAP = 3.0
"""PIL's `reducing_gap`: large windows are first shrunk by an integer factor with a box filter, then resampled;
at 3 the result is within a few levels of exact resampling (mean 0.1) and renders 1.5x faster at 32 px."""


def render_sample_crops(crops: list[SampleCrop], image_size: int) -> np.ndarray:
    """Cut and resize planned crops (bilinear, antialiased) into `uint8 (len, S, S, 3)`."""
    photos = sample_photos()
    batch = np.empty((len(crops), image_size, image_size, 3), np.uint8)
    for index, crop in enumerate(crops):
        window = (crop.left, crop.top, crop.left + crop.side, crop.top + crop.side)
        pixels = np.asarray(photos[crop.photo_index].image.resize(
            (image_size, image_size), Image.Resampling.BILINEAR, box=window, reducing_gap=_REDUCING_GAP
        ))
        batch[index] = pixels[:, ::-1] if crop.flip else pixels
    return batch


class SampleSampler:
    """Serves the crops of the sample set by epoch and position (for `NumpyBatches`).

    Args:
        split: `"train"`, `"validation"` or `"test"` (same as validation).
        image_size: the side of the crops.
        count: crops per epoch; defaults to `SAMPLE_TRAIN_CROPS` or
            `SAMPLE_VALIDATION_CROPS`.
        seed: fixes the crops; None draws a random seed for training and uses 0 for validation.
        augment: new crops every epoch and random flips; otherwise one fixed set of crops.

    Example:
        >>> sampler = SampleSampler("train", 32, count=8, seed=0, augment=True)
        >>> images, labels = sampler.items(epoch=0, positions=range(4))
        >>> images.shape, labels.tolist()
        ((4, 32, 32, 3), [-1, -1, -1, -1])
    """

    has_labels = False

    def __init__(self, split: str, image_size: int, *, count: int | None = None, seed: int | None = None, augment: bool = False):
        self.split = "train" if split == "train" else "validation"
        self.image_size = image_size
        default_count = SAMPLE_TRAIN_CROPS if self.split == "train" else SAMPLE_VALIDATION_CROPS
        self.num_items = default_count if count is None else count
        if seed is None:
            seed = int(np.random.SeedSequence().entropy % 2**63) if self.split == "train" else 0
        self.seed = seed
        self.augment = augment
        self._plans: dict[int, list[SampleCrop]] = {}
        self._lock = threading.Lock()
        sample_photos()  # fail early when the photos are missing

    def plan(self, epoch: int) -> list[SampleCrop]:
        """The crops of an epoch (the same for every epoch without augmentation)."""
        epoch = epoch if self.augment else 0
        with self._lock:
            if epoch not in self._plans:
                self._plans = {epoch: plan_sample_crops(
                    self.split, self.num_items, self.image_size, seed=self.seed, epoch=epoch, flip=self.augment
                )}
            return self._plans[epoch]

    def items(self, epoch: int, positions: range) -> tuple[np.ndarray, np.ndarray]:
        """Render the crops at `positions` of `epoch`: `(uint8 images, int64 labels = -1)`."""
        plan = self.plan(epoch)
        images = render_sample_crops([plan[position] for position in positions], self.image_size)
        return images, np.full(len(images), -1, np.int64)
