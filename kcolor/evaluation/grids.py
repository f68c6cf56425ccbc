"""Image grids that compare colorizations side by side.

* `comparison_grid`: one row per image, columns *gray* | model 1 |
  model 2 | ... | *ground truth*, the figure of the paper that shows how an
  L1-only U-Net and a GAN colourise the same inputs.
* `best_and_worst`: the images a model gets most and least right by a
  per-image metric, each above its ground truth.

Both return the matplotlib figure and can save it as PNG with `path=`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from kcolor.evaluation.figures import finish_figure, image_grid, show_image
from kcolor.evaluation.lab import gray_reference
from kcolor.evaluation.metrics import MetricSettings, get_metric, per_image_scores
from kcolor.evaluation.validation import (
    GRAY_ROW,
    TRUTH_ROW,
    check_image_pair,
    check_images,
    check_labels,
    check_predictions,
    class_name,
)


def choose_indices(
    num_images: int, count: int, indices: Sequence[int] | None = None, seed: int | None = 0
) -> np.ndarray:
    """Returns the given indices, or `count` distinct random ones (seeded).

    Args:
        num_images: Size of the data set.
        count: How many indices to draw when `indices` is None (capped at
            `num_images`).
        indices: Explicit indices to use.
        seed: Seed of the random draw.

    Returns:
        A 1-D int array of indices, sorted when drawn at random.

    Raises:
        ValueError: If an index is out of range or `count` < 1.

    Example:
        >>> choose_indices(10, 3, seed=0).tolist() == choose_indices(10, 3, seed=0).tolist()
        True
    """
    if indices is None:
        if count < 1:
            raise ValueError(f"count must be at least 1, got {count}.")
        generator = np.random.default_rng(seed)
        return np.sort(generator.choice(num_images, size=min(count, num_images), replace=False))
    chosen = np.asarray(indices, dtype=np.int64).reshape(-1)
    if chosen.size == 0 or chosen.min() < -num_images or chosen.max() >= num_images:
        raise ValueError(f"indices must be non-empty and within [0, {num_images}), got {chosen.tolist()}.")
    return chosen


def comparison_grid(
    true_rgb,
    predictions: Mapping[str, np.ndarray],
    indices: Sequence[int] | None = None,
    count: int = 6,
    seed: int | None = 0,
    labels=None,
    class_names: Sequence[str] | None = None,
    path: str | Path | None = None,
    title: str | None = None,
):
    """Draws gray | each model | ground truth for some images.

    Args:
        true_rgb: `(N, H, W, 3)` uint8 ground truth.
        predictions: Model name to `(N, H, W, 3)` uint8 predictions, in column
            order, e.g. `{"L1-only U-Net": a, "GAN": b}`.
        indices: Images to show; default `count` random ones.
        count: Number of random images when `indices` is None.
        seed: Seed of the random choice.
        labels: Optional `(N,)` integer labels, written left of each row.
        class_names: Optional names indexed by label.
        path: Optional PNG file to write.
        title: Optional figure title.

    Returns:
        The matplotlib figure.

    Raises:
        ValueError: For invalid images, mismatched shapes or bad indices.

    Example:
        >>> figure = comparison_grid(truth, {"GAN": predicted}, count=4, path="grid.png")  # doctest: +SKIP
    """
    true_rgb = check_images(true_rgb, "true_rgb")
    predictions = check_predictions(true_rgb, predictions)
    chosen = choose_indices(len(true_rgb), count, indices, seed)
    labels = None if labels is None else check_labels(labels, len(true_rgb))
    columns = {GRAY_ROW: gray_reference(true_rgb[chosen])}
    columns.update({name: images[chosen] for name, images in predictions.items()})
    columns[TRUTH_ROW] = true_rgb[chosen]
    figure, axes = image_grid(len(chosen), len(columns))
    for row, index in enumerate(chosen):
        row_label = None if labels is None else class_name(int(labels[index]), class_names)
        for column, (name, images) in enumerate(columns.items()):
            show_image(
                axes[row, column],
                images[row],
                title=name if row == 0 else None,
                row_label=row_label if column == 0 else None,
            )
    return finish_figure(figure, path, title)


def best_and_worst(
    true_rgb,
    pred_rgb,
    metric: str = "accuracy",
    count: int = 4,
    scores: np.ndarray | None = None,
    settings: MetricSettings | None = None,
    name: str = "model",
    path: str | Path | None = None,
):
    """Shows the `count` best and worst predictions by a per-image metric.

    Rows: best predictions, their ground truth, worst predictions, their
    ground truth; each prediction is titled with its score.

    Args:
        true_rgb: `(N, H, W, 3)` uint8 ground truth.
        pred_rgb: `(N, H, W, 3)` uint8 predictions.
        metric: A per-image metric that compares with the truth
            (`"accuracy"`, `"auc"`, `"psnr"`, `"ssim"`).
        count: Images per group (capped at half the data set).
        scores: Precomputed `(N,)` scores (e.g. `report.per_image[name][metric]`);
            computed when None.
        settings: Metric parameters when computing scores.
        name: Model name for the row labels.
        path: Optional PNG file to write.

    Returns:
        The matplotlib figure.

    Raises:
        ValueError: For invalid images, a metric that does not rank
            predictions against the truth, or scores of the wrong length.
    """
    true_rgb, pred_rgb = check_image_pair(true_rgb, pred_rgb)
    definition = get_metric(metric)
    if definition.compute is None or not definition.compares_with_truth:
        raise ValueError(
            f"{metric!r} does not score each prediction against the truth; use accuracy, auc, psnr or ssim."
        )
    if scores is None:
        scores = per_image_scores(metric, true_rgb, pred_rgb, settings)
    scores = np.asarray(scores)
    if scores.shape != (len(true_rgb),):
        raise ValueError(f"scores must have shape ({len(true_rgb)},), got {scores.shape}.")
    count = max(1, min(count, len(true_rgb) // 2 or 1))
    order = np.argsort(scores, kind="stable")
    if definition.higher_is_better:
        order = order[::-1]
    groups = {"best": order[:count], "worst": order[::-1][:count]}
    figure, axes = image_grid(4, count)
    for group_number, (group, group_indices) in enumerate(groups.items()):
        for column, index in enumerate(group_indices):
            show_image(
                axes[2 * group_number, column],
                pred_rgb[index],
                title=f"{definition.title} {definition.format(scores[index])}",
                row_label=f"{group}: {name}" if column == 0 else None,
            )
            show_image(
                axes[2 * group_number + 1, column], true_rgb[index], row_label=TRUTH_ROW if column == 0 else None
            )
    return finish_figure(figure, path, f"Best and worst by {definition.title}")
