"""Fidelity in RGB: PSNR and SSIM per image (scikit-image), the signal-processing view of a colorization.

Both compare the prediction with the truth in uint8 RGB (`data_range=255`). PSNR of identical images is
infinite, so each image's value is capped (`PSNR_CAP_DB`, 100 dB by default) and the mean stays finite. SSIM uses
a 7x7 window, or the largest odd side of smaller images, so 16 and 32 pixel images work.

The `*_batch` functions are the per-image metrics the reports run (`kcolor.evaluation.metrics.METRICS`); `psnr`
and `ssim` average them over a data set.
"""

from __future__ import annotations

import numpy as np
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from kcolor.evaluation.batching import DEFAULT_BATCH_SIZE
from kcolor.evaluation.comparison import PSNR_CAP_DB, ImageComparison, MetricSettings, mean_over_images

SSIM_WINDOW = 7
"""SSIM window side (scikit-image's default); smaller images use their largest odd side."""


def psnr_batch(comparison: ImageComparison, settings: MetricSettings) -> np.ndarray:
    """Per-image PSNR in dB of a batch, capped at `settings.psnr_cap`.

    Args:
        comparison: The batch of true and predicted images.
        settings: `settings.psnr_cap` is the value of identical images.

    Returns:
        `(n,)` float64 PSNR values.

    Example:

    ```python
    psnr_batch(ImageComparison(truth, predicted), MetricSettings())
    ```
    """
    with np.errstate(divide="ignore"):
        values = [
            peak_signal_noise_ratio(true_image, pred_image, data_range=255)
            for true_image, pred_image in zip(comparison.true_rgb, comparison.pred_rgb)
        ]
    return np.minimum(np.asarray(values, np.float64), settings.psnr_cap)


def ssim_window(height: int, width: int) -> int:
    """Returns the SSIM window side used for images of this size.

    Args:
        height: Image height in pixels.
        width: Image width in pixels.

    Returns:
        `SSIM_WINDOW` (7) or, for smaller images, their largest odd side.

    Raises:
        ValueError: If the images are smaller than 3 pixels on a side.

    Example:

    ```python
    ssim_window(32, 32), ssim_window(6, 32)   # (7, 5)
    ```
    """
    side = min(height, width, SSIM_WINDOW)
    window = side if side % 2 else side - 1
    if window < 3:
        raise ValueError(f"SSIM needs images of at least 3x3 pixels, got {height}x{width}.")
    return window


def ssim_batch(comparison: ImageComparison, settings: MetricSettings) -> np.ndarray:
    """Per-image SSIM of a batch on RGB (scikit-image, window `ssim_window`).

    Args:
        comparison: The batch of true and predicted images.
        settings: Unused; every per-image metric takes it.

    Returns:
        `(n,)` SSIM values, 1 for identical images.

    Raises:
        ValueError: If the images are smaller than 3x3.

    Example:

    ```python
    ssim_batch(ImageComparison(truth, predicted), MetricSettings())
    ```
    """
    window = ssim_window(*comparison.true_rgb.shape[1:3])
    return np.array(
        [
            structural_similarity(true_image, pred_image, data_range=255, channel_axis=-1, win_size=window)
            for true_image, pred_image in zip(comparison.true_rgb, comparison.pred_rgb)
        ]
    )


def psnr(true_rgb, pred_rgb, cap: float = PSNR_CAP_DB, batch_size: int = DEFAULT_BATCH_SIZE) -> float:
    """Mean per-image PSNR on RGB with `data_range=255`.

    Identical images have an infinite PSNR; each image's value is capped at `cap` dB (100 by default) so the
    mean stays finite.

    Args:
        true_rgb: `(N, H, W, 3)` uint8 ground truth.
        pred_rgb: `(N, H, W, 3)` uint8 predictions.
        cap: Maximum per-image PSNR in dB.
        batch_size: Images processed at a time.

    Returns:
        Mean PSNR in dB.

    Raises:
        ValueError: If the images are not matching uint8 RGB batches.

    Example:

    ```python
    psnr(images, images)   # 100.0, the cap
    ```
    """
    return mean_over_images(psnr_batch, true_rgb, pred_rgb, MetricSettings(psnr_cap=cap), batch_size)


def ssim(true_rgb, pred_rgb, batch_size: int = DEFAULT_BATCH_SIZE) -> float:
    """Mean per-image SSIM on RGB (scikit-image, `data_range=255`).

    The window is 7x7 (smaller images use their largest odd side, see `ssim_window`), so 16 and 32 pixel images
    work.

    Args:
        true_rgb: `(N, H, W, 3)` uint8 ground truth.
        pred_rgb: `(N, H, W, 3)` uint8 predictions.
        batch_size: Images processed at a time.

    Returns:
        Mean SSIM, 1 for identical images.

    Raises:
        ValueError: If the images are not matching uint8 RGB batches or smaller than 3x3.

    Example:

    ```python
    ssim(images, images)   # 1.0
    ```
    """
    return mean_over_images(ssim_batch, true_rgb, pred_rgb, MetricSettings(), batch_size)
