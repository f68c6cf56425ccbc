"""Painted blobs: saturated color that a colorizer paints where the photo has little.

A GAN colorizer's loudest failure is not a wrong hue but a blob: a patch of saturated purple, blue or red
painted into a dark or flat region of a photo whose truth there is nearly gray. Mean metrics hide it (a blob
covers a few percent of one photo in ten), so it is counted per photo. The photo is cut into square blocks, and
each block's mean predicted chroma, `sqrt(a*^2 + b*^2)`, is compared with the mean chroma of the same block of
the truth; the photo has a blob when some block exceeds the truth by more than `BLOB_CHROMA_EXCESS` (40 a*b*
units: the step from a muted color to a saturated one). At 224 px the blocks are 16 px, 1/14 of the side.

How the shipped photo model's blobs were traced to the generator's padding: docs/RESULTS.md, "Where the painted
blobs come from".

Example:

```python
excess = block_chroma_excess(truth, colorized)   # (N, rows, columns), a*b* units
has_blob = excess.max(axis=(1, 2)) > BLOB_CHROMA_EXCESS
```
"""

from __future__ import annotations

import numpy as np

from kcolor.evaluation.batching import DEFAULT_BATCH_SIZE, batch_slices
from kcolor.host_lab import lab_from_rgb8
from kcolor.evaluation.validation import check_images

BLOB_CHROMA_EXCESS = 40.0
"""A block whose mean chroma exceeds the truth's by more than this many a*b* units is a blob."""

BLOB_BLOCK_SIZE = 16
"""Side of the blocks, in pixels, for 224-px photos."""


def block_chroma(images: np.ndarray, block_size: int = BLOB_BLOCK_SIZE, batch_size: int = DEFAULT_BATCH_SIZE):
    """The mean a*b* chroma of every `block_size` square block of every image.

    Args:
        images: `(N, H, W, 3)` uint8 RGB. Rows and columns past the last whole block are left out.
        block_size: Side of the blocks in pixels.
        batch_size: Images converted to L*a*b* at a time.

    Returns:
        `(N, H // block_size, W // block_size)` float32, in a*b* units.
    """
    images = check_images(images)
    if block_size < 1:
        raise ValueError(f"block_size must be a positive number of pixels, got {block_size}.")
    rows, columns = images.shape[1] // block_size, images.shape[2] // block_size
    if rows == 0 or columns == 0:
        raise ValueError(f"Images of {images.shape[1]}x{images.shape[2]} px hold no {block_size}-px block.")
    chroma = np.zeros((len(images), rows, columns), np.float32)
    for batch in batch_slices(len(images), batch_size):
        lab = lab_from_rgb8(images[batch, : rows * block_size, : columns * block_size])
        pixel_chroma = np.hypot(lab[..., 1], lab[..., 2])
        chroma[batch] = pixel_chroma.reshape(-1, rows, block_size, columns, block_size).mean(axis=(2, 4))
    return chroma


def block_chroma_excess(true_rgb: np.ndarray, predicted_rgb: np.ndarray, block_size: int = BLOB_BLOCK_SIZE):
    """How much more chroma each block of the predictions has than the same block of the truth.

    Args:
        true_rgb: `(N, H, W, 3)` uint8 RGB ground truth.
        predicted_rgb: The colorizations, same shape.
        block_size: Side of the blocks in pixels.

    Returns:
        `(N, rows, columns)` float32 in a*b* units: positive where the model painted more color than the truth
        has.
    """
    if np.shape(true_rgb) != np.shape(predicted_rgb):
        raise ValueError(f"Truth {np.shape(true_rgb)} and predictions {np.shape(predicted_rgb)} differ in shape.")
    return block_chroma(predicted_rgb, block_size) - block_chroma(true_rgb, block_size)


def worst_block_excess(true_rgb: np.ndarray, predicted_rgb: np.ndarray, block_size: int = BLOB_BLOCK_SIZE):
    """Each image's largest `block_chroma_excess`: above `BLOB_CHROMA_EXCESS`, the image has a blob.

    Returns:
        `(N,)` float32, in a*b* units.
    """
    return block_chroma_excess(true_rgb, predicted_rgb, block_size).max(axis=(1, 2))


def has_blob(true_rgb: np.ndarray, predicted_rgb: np.ndarray, block_size: int = BLOB_BLOCK_SIZE,
             threshold: float = BLOB_CHROMA_EXCESS) -> np.ndarray:  # fmt: skip
    """Whether each colorization has a painted blob (`worst_block_excess` above `threshold`).

    Returns:
        `(N,)` bool.
    """
    return worst_block_excess(true_rgb, predicted_rgb, block_size) > threshold
