"""2-D a*b* histograms: where in color space the predictions put their pixels.

A model trained with the L1 loss alone tends to predict the average color, so its pixels crowd around
a* = b* = 0 ("washed out") or along a brownish diagonal ("sepia"). Plotting the joint histogram of a* and b* on
a log scale, one panel per source next to the ground truth, makes that failure visible at a glance. Histograms
are accumulated batch by batch in float32 L*a*b* (`kcolor.host_lab`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from kcolor.evaluation.batching import DEFAULT_BATCH_SIZE, batch_slices
from kcolor.evaluation.figures import finish_figure
from kcolor.evaluation.validation import TRUTH_ROW, check_images, check_predictions
from kcolor.host_lab import lab_from_rgb8

AB_RANGE = (-110.0, 110.0)
"""a* and b* of sRGB colors lie within this range."""


def ab_histogram(images, bins: int = 64, batch_size: int = DEFAULT_BATCH_SIZE) -> np.ndarray:
    """Fraction of pixels in each (a*, b*) bin.

    Args:
        images: `(N, H, W, 3)` uint8 RGB.
        bins: Bins per axis over `AB_RANGE`.
        batch_size: Images converted at a time.

    Returns:
        `(bins, bins)` float64 array indexed `[a_bin, b_bin]` that sums to 1.

    Raises:
        ValueError: If `images` is not a uint8 RGB batch.

    Example:

    ```python
    ab_histogram(np.full((1, 4, 4, 3), 128, np.uint8), bins=3).tolist()
    # [[0.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.0]]
    ```
    """
    images = check_images(images)
    counts = np.zeros((bins, bins))
    for batch in batch_slices(len(images), batch_size):
        lab = lab_from_rgb8(images[batch])
        batch_counts, _, _ = np.histogram2d(
            lab[..., 1].ravel(), lab[..., 2].ravel(), bins=bins, range=(AB_RANGE, AB_RANGE)
        )
        counts += batch_counts
    return counts / counts.sum()


def ab_histograms(
    true_rgb,
    predictions: Mapping[str, np.ndarray],
    bins: int = 64,
    batch_size: int = DEFAULT_BATCH_SIZE,
    path: str | Path | None = None,
):
    """Plots log-scale a*b* histograms, one panel per model and one for the truth.

    All panels share one color scale (fraction of pixels), so a washed-out model shows as a bright spot at the
    origin where the truth spreads out.

    Args:
        true_rgb: `(N, H, W, 3)` uint8 ground truth.
        predictions: Model name to predictions of the same shape (may be empty); need not be the same images as
            the truth but must match its shape.
        bins: Bins per axis.
        batch_size: Images converted at a time.
        path: Optional PNG file to write.

    Returns:
        The matplotlib figure.

    Raises:
        ValueError: For invalid images or mismatched shapes.

    Example:

    ```python
    ab_histograms(truth, {"GAN": predicted}, path="runs/eval/ab_histograms.png")
    ```
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm

    true_rgb = check_images(true_rgb, "true_rgb")
    sources = {**check_predictions(true_rgb, predictions), TRUTH_ROW: true_rgb}
    histograms = {name: ab_histogram(images, bins, batch_size) for name, images in sources.items()}
    smallest = min(histogram[histogram > 0].min() for histogram in histograms.values())
    largest = max(histogram.max() for histogram in histograms.values())
    figure, axes = plt.subplots(1, len(sources), figsize=(3.2 * len(sources) + 0.8, 3.4), squeeze=False, sharey=True)
    for axis, (name, histogram) in zip(axes[0], histograms.items()):
        shown = np.ma.masked_equal(histogram.T, 0.0)  # rows are b*, columns a*
        image = axis.imshow(
            shown, origin="lower", extent=(*AB_RANGE, *AB_RANGE), norm=LogNorm(smallest, largest), cmap="viridis"
        )
        axis.axhline(0, color="white", linewidth=0.5, alpha=0.5)
        axis.axvline(0, color="white", linewidth=0.5, alpha=0.5)
        axis.set_title(name, fontsize=10)
        axis.set_xlabel("a*")
        axis.set_facecolor("black")
    axes[0, 0].set_ylabel("b*")
    figure.colorbar(image, ax=list(axes[0]), label="fraction of pixels", shrink=0.85)
    # tight_layout does not handle a colorbar shared by several axes.
    return finish_figure(figure, path, tight=False)
