"""NumPy/PIL preprocessing shared by every dataset source: filtering, resizing, cropping.

The pipeline follows the paper's code in two stages. Stage one is deterministic and is what
gets cached: skip unusable sources (:func:`skip_reason`), then resize so the *shorter* side
equals ``image_size``, keeping the aspect ratio (:func:`resize_shorter_side`; small images are
scaled up). Stage two is per epoch: cut an ``image_size`` square, at random with a horizontal
flip of probability 0.5 for training, or in the center for evaluation (:func:`crop_square`).
:mod:`kcolor.data.tf_pipeline` implements the same two stages with TensorFlow ops for
``tf.data``; the constants below are shared so both paths agree.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from kcolor.data.images import is_grayscale

MIN_SOURCE_SIDE = 8
"""Source images whose shorter side is below this many pixels are skipped as "too small":
scaling them up to ``image_size`` would only produce blur. Anything larger is resized, up or
down."""

MIN_SOURCE_COLORFULNESS = 8.0
"""Source images less colorful than this (:func:`source_colorfulness`) are skipped as
"colorless": black-and-white photos stored as RGB, sepia prints, silver gadgets on white. A
colorizer learns nothing from them but to hedge towards gray. On Imagenette's 9,469 training
photos it drops 268 besides the 173 stored as grayscale; a look at the photos just above it
(8-12) shows mostly real, if muted, color."""

SKIP_REASONS = ("grayscale", "too small", "colorless")
"""Why a decoded source image can be left out of a dataset; the TensorFlow path encodes a
reason as its position in this tuple plus one (zero meaning "keep")."""


def source_colorfulness(image: np.ndarray) -> float:
    """The colorfulness of Hasler & Suesstrunk (2003) of a ``uint8`` RGB image, on 0-255 values.

    ``sqrt(std(rg)^2 + std(yb)^2) + 0.3 * sqrt(mean(rg)^2 + mean(yb)^2)`` with ``rg = R - G`` and
    ``yb = (R + G) / 2 - B``: 0 for gray, about 15 for "slightly colorful", 33 for "moderately".

    Example:
        >>> source_colorfulness(np.full((8, 8, 3), 128, np.uint8))
        0.0
    """
    rgb = np.asarray(image, np.float32)
    red_green = rgb[..., 0] - rgb[..., 1]
    yellow_blue = 0.5 * (rgb[..., 0] + rgb[..., 1]) - rgb[..., 2]
    spread = np.hypot(red_green.std(), yellow_blue.std())
    return float(spread + 0.3 * np.hypot(red_green.mean(), yellow_blue.mean()))


def skip_reason(image: np.ndarray) -> str | None:
    """Say why a decoded RGB image must be left out of a colorization dataset.

    Args:
        image: a ``uint8`` array of shape ``(height, width, 3)``.

    Returns:
        ``"too small"`` when the shorter side is below :data:`MIN_SOURCE_SIDE`, ``"grayscale"``
        when :func:`~kcolor.data.images.is_grayscale` holds, ``"colorless"`` when its
        :func:`source_colorfulness` is below :data:`MIN_SOURCE_COLORFULNESS`, otherwise None.

    Example:
        >>> skip_reason(np.zeros((32, 32, 3), np.uint8))
        'grayscale'
    """
    if min(image.shape[:2]) < MIN_SOURCE_SIDE:
        return SKIP_REASONS[1]
    if is_grayscale(image):
        return SKIP_REASONS[0]
    if source_colorfulness(image) < MIN_SOURCE_COLORFULNESS:
        return SKIP_REASONS[2]
    return None


def resized_shape(height: int, width: int, image_size: int) -> tuple[int, int]:
    """The ``(height, width)`` that scales the shorter side to ``image_size``, keeping the aspect.

    Example:
        >>> resized_shape(300, 451, 64)
        (64, 96)
    """
    scale = image_size / min(height, width)
    return max(image_size, round(height * scale)), max(image_size, round(width * scale))


def resize_shorter_side(image: np.ndarray, image_size: int) -> np.ndarray:
    """Resize an RGB image so its shorter side is ``image_size`` (bilinear, antialiased).

    Args:
        image: a ``uint8`` array of shape ``(height, width, 3)``.
        image_size: the target length of the shorter side.

    Returns:
        The image itself when it already has that size, else a new ``uint8`` array.

    Example:
        >>> resize_shorter_side(np.zeros((300, 451, 3), np.uint8), 64).shape
        (64, 96, 3)
    """
    height, width = image.shape[:2]
    new_height, new_width = resized_shape(height, width, image_size)
    if (new_height, new_width) == (height, width):
        return image
    resized = Image.fromarray(np.ascontiguousarray(image)).resize((new_width, new_height), Image.Resampling.BILINEAR)
    return np.asarray(resized)


def crop_square(image: np.ndarray, image_size: int, rng: np.random.Generator | None = None) -> np.ndarray:
    """Cut an ``image_size`` square out of an image whose shorter side is at least that long.

    Args:
        image: a ``uint8`` array of shape ``(height, width, 3)``, typically the output of
            :func:`resize_shorter_side`.
        image_size: the side of the square.
        rng: with a generator, the square is placed at random and flipped left-right with
            probability 0.5 (training); without, it is the center square (evaluation).

    Returns:
        A ``uint8`` array of shape ``(image_size, image_size, 3)`` (a view when possible).

    Example:
        >>> crop_square(np.zeros((32, 48, 3), np.uint8), 32, np.random.default_rng(0)).shape
        (32, 32, 3)
    """
    height, width = image.shape[:2]
    if rng is None:
        top, left, flip = (height - image_size) // 2, (width - image_size) // 2, False
    else:
        top = int(rng.integers(0, height - image_size + 1))
        left = int(rng.integers(0, width - image_size + 1))
        flip = bool(rng.random() < 0.5)
    square = image[top : top + image_size, left : left + image_size]
    return square[:, ::-1] if flip else square
