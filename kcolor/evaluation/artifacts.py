"""Checkerboard artifacts: how much 2-pixel pattern a colorizer prints into its colors.

A decoder that doubles the image with 4x4 stride-2 transposed convolutions computes neighbouring output pixels
from different subsets of its kernel, so unless training balances them exactly, its output alternates from
pixel to pixel (Odena, Dumoulin & Olah 2016). Natural colors are smooth at that scale: a*b* change at object
edges, not every other pixel. `checkerboard_energy` measures the alternating part of each image's a*b*
channels with the Haar wavelet's finest diagonal detail on the 2x2 grid the upsampling works on,

    d = (ab[2i, 2j] - ab[2i, 2j+1] - ab[2i+1, 2j] + ab[2i+1, 2j+1]) / 4,

as the root mean square of the length of the (a*, b*) detail vector d over the image, in a*b* units. Gray has 0; real photos have some (texture,
edges); a checkerboard adds its amplitude to every block. Compare a model with the ground truth's value.
"""

from __future__ import annotations

import numpy as np

from kcolor.evaluation.batching import DEFAULT_BATCH_SIZE, batch_slices
from kcolor.evaluation.validation import check_images
from kcolor.host_lab import lab_from_rgb8


def checkerboard_energy(images, batch_size: int = DEFAULT_BATCH_SIZE) -> np.ndarray:
    """The root-mean-square 2x2 diagonal detail of each image's a*b* channels (see the module docstring).

    Args:
        images: `(N, H, W, 3)` uint8 RGB; an odd last row or column is left out.
        batch_size: Images converted to L*a*b* at a time.

    Returns:
        `(N,)` float32, in a*b* units (0 for gray images).

    Example:

    ```python
    checkerboard_energy(np.full((1, 8, 8, 3), 128, np.uint8))   # array([0.], dtype=float32)
    ```
    """
    images = check_images(images)
    batches = batch_slices(len(images), batch_size)
    values = [checkerboard_energy_of_lab(lab_from_rgb8(images[batch])) for batch in batches]
    return np.concatenate(values).astype(np.float32) if values else np.zeros(0, np.float32)


def checkerboard_energy_of_lab(lab: np.ndarray) -> np.ndarray:
    """`checkerboard_energy` of a float L*a*b* batch.

    Args:
        lab: `(N, H, W, 3)` float L*a*b*.

    Returns:
        `(N,)` float32, in a*b* units.

    Example:

    ```python
    checkerboard_energy_of_lab(lab_from_rgb8(images))
    ```
    """
    height, width = (lab.shape[1] // 2) * 2, (lab.shape[2] // 2) * 2
    ab = lab[:, :height, :width, 1:]
    detail = (ab[:, 0::2, 0::2] - ab[:, 0::2, 1::2] - ab[:, 1::2, 0::2] + ab[:, 1::2, 1::2]) / 4
    return np.sqrt(np.mean(np.sum(detail**2, axis=-1), axis=(1, 2))).astype(np.float32)
