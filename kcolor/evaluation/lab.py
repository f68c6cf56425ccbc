"""L*a*b* for the evaluation: the host conversions, and the gray reference built from them.

The colorization models predict the a*b* channels from L*, so the evaluation measures color in L*a*b* too.
The conversions are `kcolor.host_lab`'s (NumPy float32, never float64, so thousands of images fit in memory
batch by batch; the same constants and formulas as `kcolor.color` on the device). This module adds the *gray*
reference: the ground truth's L* with a* = b* = 0, i.e. what a model that predicts no color at all would output.
"""

from __future__ import annotations

import numpy as np

from kcolor.evaluation.batching import DEFAULT_BATCH_SIZE, batch_slices
from kcolor.evaluation.validation import check_images
from kcolor.host_lab import lab_from_rgb8, rgb8_from_lab

# Former name of `lab_from_rgb8`, kept because `kcolor.evaluation.rgb_to_lab` is public; new code uses the host name.
rgb_to_lab = lab_from_rgb8


def gray_from_lab(lab: np.ndarray) -> np.ndarray:
    """Returns the uint8 RGB images with the same L* and a* = b* = 0.

    Args:
        lab: `(N, H, W, 3)` float L*a*b*.

    Returns:
        `(N, H, W, 3)` uint8 RGB gray images.

    Example:

    ```python
    gray_from_lab(np.float32([[[[50.0, 20.0, -30.0]]]]))   # [[[[119, 119, 119]]]]
    ```
    """
    gray_lab = np.zeros_like(lab)
    gray_lab[..., 0] = lab[..., 0]
    return rgb8_from_lab(gray_lab)


def gray_reference(true_rgb: np.ndarray, batch_size: int = DEFAULT_BATCH_SIZE) -> np.ndarray:
    """Builds the gray reference images: the truth's L* with a* = b* = 0.

    This is the "no color" baseline every report shows next to the models.

    Args:
        true_rgb: `(N, H, W, 3)` uint8 RGB ground truth.
        batch_size: Images converted at a time.

    Returns:
        `(N, H, W, 3)` uint8 RGB images whose three channels are (almost) equal.

    Raises:
        ValueError: If `true_rgb` is not a uint8 RGB batch.

    Example:

    ```python
    gray = gray_reference(np.full((1, 4, 4, 3), (200, 30, 30), np.uint8))
    int(gray[0, 0, 0, 0]) == int(gray[0, 0, 0, 2])   # True
    ```
    """
    true_rgb = check_images(true_rgb, "true_rgb")
    gray = np.empty_like(true_rgb)
    for batch in batch_slices(len(true_rgb), batch_size):
        gray[batch] = gray_from_lab(lab_from_rgb8(true_rgb[batch]))
    return gray
