"""L*a*b* conversions on the host (scikit-image, float32) for the evaluation.

The colorization models predict the a*b* channels from L*, so the evaluation
measures colour in L*a*b* too. This module converts uint8 RGB batches to
float32 Lab with scikit-image (never float64, so thousands of images fit in
memory batch by batch) and builds the *gray* reference: the ground truth's
L* with a* = b* = 0, i.e. what a model that predicts no colour at all would
output. (:mod:`kcolor.color` does the same conversions in ``keras.ops`` for
training; this module is the numpy side used for metrics.)
"""

from __future__ import annotations

import numpy as np
from skimage import color

from kcolor.evaluation.batching import DEFAULT_BATCH_SIZE, batch_slices
from kcolor.evaluation.validation import check_images


def rgb_to_lab(images: np.ndarray) -> np.ndarray:
    """Converts a uint8 RGB batch to float32 L*a*b*.

    Args:
        images: ``(N, H, W, 3)`` uint8 RGB (not checked; call on small batches).

    Returns:
        ``(N, H, W, 3)`` float32 with L* in [0, 100] and a*, b* roughly in
        [-110, 110].
    """
    return color.rgb2lab(images.astype(np.float32) / np.float32(255.0)).astype(np.float32, copy=False)


def lab_to_rgb(lab: np.ndarray) -> np.ndarray:
    """Converts a float L*a*b* batch back to uint8 RGB (rounded, clipped).

    Args:
        lab: ``(N, H, W, 3)`` float L*a*b*.

    Returns:
        ``(N, H, W, 3)`` uint8 RGB.
    """
    rgb = color.lab2rgb(lab.astype(np.float32, copy=False))
    return np.clip(np.round(rgb * 255.0), 0, 255).astype(np.uint8)


def gray_from_lab(lab: np.ndarray) -> np.ndarray:
    """Returns the uint8 RGB image with the same L* and a* = b* = 0.

    Args:
        lab: ``(N, H, W, 3)`` float L*a*b*.

    Returns:
        ``(N, H, W, 3)`` uint8 RGB gray images.
    """
    gray_lab = np.zeros_like(lab)
    gray_lab[..., 0] = lab[..., 0]
    return lab_to_rgb(gray_lab)


def gray_reference(true_rgb: np.ndarray, batch_size: int = DEFAULT_BATCH_SIZE) -> np.ndarray:
    """Builds the gray reference images: the truth's L* with a* = b* = 0.

    This is the "no colour" baseline every report shows next to the models.

    Args:
        true_rgb: ``(N, H, W, 3)`` uint8 RGB ground truth.
        batch_size: Images converted at a time.

    Returns:
        ``(N, H, W, 3)`` uint8 RGB images whose three channels are (almost)
        equal.

    Raises:
        ValueError: If ``true_rgb`` is not a uint8 RGB batch.

    Example:
        >>> gray = gray_reference(np.full((1, 4, 4, 3), (200, 30, 30), np.uint8))
        >>> int(gray[0, 0, 0, 0]) == int(gray[0, 0, 0, 2])
        True
    """
    true_rgb = check_images(true_rgb, "true_rgb")
    gray = np.empty_like(true_rgb)
    for batch in batch_slices(len(true_rgb), batch_size):
        gray[batch] = gray_from_lab(rgb_to_lab(true_rgb[batch]))
    return gray
