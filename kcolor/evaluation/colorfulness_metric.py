"""Colorfulness (Hasler & Süsstrunk 2003): how colorful images are, with no ground truth needed.

A colorizer that plays safe paints washed-out, brownish colors; the pixel metrics reward that, colorfulness
shows it. With `rg = R - G` and `yb = (R + G) / 2 - B` over an image's pixels,
`M = sqrt(σ_rg² + σ_yb²) + 0.3 * sqrt(μ_rg² + μ_yb²)` (population standard deviations, RGB in 0-255): 0 for
gray, about 30-60 for everyday photos. Compare a model's value with the ground truth's.
"""

from __future__ import annotations

import numpy as np

from kcolor.evaluation.batching import DEFAULT_BATCH_SIZE, map_batches
from kcolor.evaluation.validation import check_images


def colorfulness_batch(images: np.ndarray) -> np.ndarray:
    """Colorfulness M of each image of a uint8 RGB batch `(n, H, W, 3)`: `(n,)` float32.

    Example:

    ```python
    colorfulness_batch(np.full((2, 4, 4, 3), 128, np.uint8))   # [0., 0.]
    ```
    """
    rgb = images.astype(np.float32)
    red, green, blue = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    red_green = (red - green).reshape(len(images), -1)
    yellow_blue = (0.5 * (red + green) - blue).reshape(len(images), -1)
    spread = np.sqrt(red_green.var(axis=1) + yellow_blue.var(axis=1))
    mean = np.sqrt(red_green.mean(axis=1) ** 2 + yellow_blue.mean(axis=1) ** 2)
    return spread + 0.3 * mean


def colorfulness_per_image(images, batch_size: int = DEFAULT_BATCH_SIZE) -> np.ndarray:
    """Colorfulness M of Hasler & Süsstrunk (2003) for every image (see the module docstring).

    Args:
        images: `(N, H, W, 3)` uint8 RGB.
        batch_size: Images processed at a time.

    Returns:
        `(N,)` float32, 0 for gray images.

    Raises:
        ValueError: If `images` is not a uint8 RGB batch.

    Example:

    ```python
    colorfulness_per_image(images)   # one value per image
    ```
    """
    images = check_images(images)
    return map_batches(colorfulness_batch, images, batch_size=batch_size)


def colorfulness(images, batch_size: int = DEFAULT_BATCH_SIZE) -> float:
    """Mean colorfulness over images, see `colorfulness_per_image`.

    Args:
        images: `(N, H, W, 3)` uint8 RGB.
        batch_size: Images processed at a time.

    Returns:
        The mean (float64) of the per-image values.

    Raises:
        ValueError: If `images` is not a uint8 RGB batch.

    Example:

    ```python
    colorfulness(np.full((1, 4, 4, 3), 128, np.uint8))   # 0.0
    ```
    """
    return float(np.mean(colorfulness_per_image(images, batch_size), dtype=np.float64))
