"""NumPy/PIL preprocessing shared by every local dataset source: filtering, resizing, cropping.

The pipeline follows the paper's code in two stages. Stage one is deterministic and is what
gets cached: skip unusable sources (`skip_reason`), then resize so the *shorter* side equals
`image_size`, keeping the aspect ratio (`resize_shorter_side`; small images are scaled up).
Stage two is per epoch: cut an `image_size` square, at random with a left-right flip of
probability 0.5 for training, or in the center for evaluation (`crop_square`).
`kcolor.data.tf_pipeline` implements the same two stages with TensorFlow ops for `tf.data`; both
take their thresholds, shapes, filter and crop placement from `kcolor.data.preprocessing_rules`,
so they agree. This module needs no TensorFlow.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from kcolor.data.preprocessing_rules import (
    MIN_SOURCE_COLORFULNESS,
    MIN_SOURCE_SIDE,
    RESIZE_ANTIALIAS,
    RESIZE_METHOD,
    SKIP_REASONS,
    colorfulness,
    crop_placement,
    resized_shape,
    skip_tests,
)

__all__ = [
    "MIN_SOURCE_COLORFULNESS",
    "MIN_SOURCE_SIDE",
    "SKIP_REASONS",
    "crop_square",
    "resize_shorter_side",
    "resized_shape",
    "skip_reason",
    "source_colorfulness",
]

_PIL_FILTERS = {"bilinear": Image.Resampling.BILINEAR}
"""The PIL filter of each `tf.image.resize` method (antialiased) that was checked to give the same
pixels, within one level (tests/test_data_preprocessing_agreement.py)."""


def source_colorfulness(image: np.ndarray) -> float:
    """The colorfulness of a `uint8` RGB image (`preprocessing_rules.colorfulness`), as a float.

    Args:
        image: a `uint8` array of shape `(height, width, 3)`.

    Returns:
        0 for gray, about 15 for "slightly colorful", 33 for "moderately".

    Example:
        ```python
        source_colorfulness(np.full((8, 8, 3), 128, np.uint8))  # 0.0
        ```
    """
    return float(colorfulness(image))


def skip_reason(image: np.ndarray) -> str | None:
    """Say why a decoded RGB image must be left out of a colorization dataset.

    The checks and their order are those of `preprocessing_rules.skip_tests`; the first that
    holds is the reason, and the later ones are not computed.

    Args:
        image: a `uint8` array of shape `(height, width, 3)`.

    Returns:
        `"too small"` when the shorter side is below `MIN_SOURCE_SIDE`, `"grayscale"` when
        every pixel is gray (`kcolor.data.images.is_grayscale`), `"colorless"` when its `source_colorfulness`
        is below `MIN_SOURCE_COLORFULNESS`, otherwise None.

    Example:
        ```python
        skip_reason(np.zeros((32, 32, 3), np.uint8))  # 'grayscale'
        ```
    """
    height, width = image.shape[:2]
    return next((reason for reason, test in skip_tests(height, width, image).items() if test()), None)


def resize_shorter_side(image: np.ndarray, image_size: int) -> np.ndarray:
    """Resize an RGB image so its shorter side is `image_size` (bilinear, antialiased).

    The shape is `preprocessing_rules.resized_shape`, the filter the PIL one of
    `preprocessing_rules.RESIZE_METHOD`.

    Args:
        image: a `uint8` array of shape `(height, width, 3)`.
        image_size: the target length of the shorter side.

    Returns:
        The image itself when it already has that size, else a new `uint8` array.

    Raises:
        ValueError: `RESIZE_METHOD` has no PIL filter, or `RESIZE_ANTIALIAS` is False (PIL
            always antialiases).

    Example:
        ```python
        resize_shorter_side(np.zeros((300, 451, 3), np.uint8), 64).shape  # (64, 96, 3)
        ```
    """
    if RESIZE_METHOD not in _PIL_FILTERS or not RESIZE_ANTIALIAS:
        raise ValueError(
            f"the NumPy pipeline resizes with PIL, which has antialiased filters for {sorted(_PIL_FILTERS)}; "
            f"got RESIZE_METHOD={RESIZE_METHOD!r}, RESIZE_ANTIALIAS={RESIZE_ANTIALIAS}"
        )
    height, width = image.shape[:2]
    new_height, new_width = (int(side) for side in resized_shape(height, width, image_size))
    if (new_height, new_width) == (height, width):
        return image
    resized = Image.fromarray(np.ascontiguousarray(image)).resize((new_width, new_height), _PIL_FILTERS[RESIZE_METHOD])
    return np.asarray(resized)


def crop_square(image: np.ndarray, image_size: int, rng: np.random.Generator | None = None) -> np.ndarray:
    """Cut an `image_size` square out of an image whose shorter side is at least that long.

    The placement is `preprocessing_rules.crop_placement`.

    Args:
        image: a `uint8` array of shape `(height, width, 3)`, typically the output of
            `resize_shorter_side`.
        image_size: the side of the square.
        rng: with a generator, the square is placed at random and flipped left-right with
            probability 0.5 (training); without, it is the center square (evaluation).

    Returns:
        A `uint8` array of shape `(image_size, image_size, 3)` (a view when possible).

    Example:
        ```python
        crop_square(np.zeros((32, 48, 3), np.uint8), 32, np.random.default_rng(0)).shape  # (32, 32, 3)
        ```
    """
    height, width = image.shape[:2]
    uniforms = None if rng is None else rng.random(3)
    top, left, flip = crop_placement(height, width, image_size, uniforms)
    square = image[top : top + image_size, left : left + image_size]
    return square[:, ::-1] if flip else square
