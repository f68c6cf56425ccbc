"""Evaluation reports: every metric for every model, between two reference rows.

`evaluate_predictions` scores predicted images against the ground truth and returns a `Report`
(`kcolor.evaluation.report_tables`) whose rows are

- **gray**: the truth's L* with a* = b* = 0, a model that adds no color;
- one row per model;
- **ground truth**: the truth compared with itself, the best possible score,

so a student sees where each model sits between "no color" and "perfect". With labels the report also splits
every per-image metric by class. All metrics are computed in one pass over the data in batches (with a progress
bar), so thousands of images are fine. `evaluate_generator` colorizes the images with Keras generators first
(via `kcolor.colorize.colorize`).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from kcolor.evaluation.batching import DEFAULT_BATCH_SIZE, ProgressBar, batch_slices
from kcolor.evaluation.frechet_inception import FID_IMAGE_SIZE, FIDAccumulator, FIDUnavailableError, InceptionFeatures
from kcolor.evaluation.comparison import ImageComparison, MetricSettings
from kcolor.evaluation.lab import gray_from_lab
from kcolor.evaluation.metrics import get_metric
from kcolor.evaluation.report_tables import Report
from kcolor.evaluation.validation import (
    GRAY_ROW,
    TRUTH_ROW,
    check_images,
    check_labels,
    check_predictions,
    class_name,
)
from kcolor.host_lab import lab_from_rgb8

__all__ = [
    "DEFAULT_METRICS",
    "FID_RELIABLE_IMAGES",
    "Report",
    "evaluate_generator",
    "evaluate_predictions",
    "predict_all",
]

DEFAULT_METRICS = ("accuracy", "auc", "psnr", "ssim", "colorfulness", "fid")
"""Metrics of a report unless told otherwise (FID is skipped with a note when the InceptionV3 ImageNet weights
cannot be downloaded)."""

FID_RELIABLE_IMAGES = 2048
"""Below this many images FID is noticeably biased (the Inception features have 2048 dimensions)."""


def _check_metrics(metrics: Sequence[str]) -> list[str]:
    keys = [get_metric(metric).key for metric in metrics]
    if not keys:
        raise ValueError("metrics is empty: name at least one metric.")
    return keys


def _fid_accumulator(weights, image_size: int, notes: list[str]) -> FIDAccumulator | None:
    try:
        return FIDAccumulator(InceptionFeatures(weights, image_size))
    except FIDUnavailableError as error:
        notes.append(f"FID skipped: {error}")
        print(f"FID skipped: {error}", file=sys.stderr)
        return None


def evaluate_predictions(
    true_rgb,
    predictions: Mapping[str, np.ndarray],
    labels=None,
    class_names: Sequence[str] | None = None,
    metrics: Sequence[str] = DEFAULT_METRICS,
    accuracy_threshold: float = 2.0,
    psnr_cap: float = MetricSettings.psnr_cap,
    fid_weights: str | None = "imagenet",
    fid_image_size: int = FID_IMAGE_SIZE,
    batch_size: int = DEFAULT_BATCH_SIZE,
    verbose: bool = True,
    judge=None,
) -> Report:
    """Scores predicted images against the truth, with gray and ground-truth rows.

    Args:
        true_rgb: `(N, H, W, 3)` uint8 ground truth.
        predictions: Model name to `(N, H, W, 3)` uint8 predictions of the same images, e.g.
            `{"L1-only U-Net": a, "GAN": b}`; may be empty to see the reference rows only.
        labels: Optional `(N,)` integer class labels for per-class tables.
        class_names: Optional names indexed by label (e.g. CIFAR-10's).
        metrics: Metric keys, a subset of `DEFAULT_METRICS`.
        accuracy_threshold: L* tolerance of the pixel accuracy.
        psnr_cap: PSNR (dB) reported for identical images.
        fid_weights: InceptionV3 weights for FID: `"imagenet"`, a weights file, or `None` (random weights, to
            test the code path only).
        fid_image_size: Inception input side (299 for standard FIDs, >= 75).
        batch_size: Images evaluated at a time.
        verbose: Whether to show a progress bar.
        judge: Optional `kcolor.evaluation.judge.SemanticJudge`; with `labels` it adds the `judge` (accuracy)
            and `judge_gap` (share of the gray-to-truth gap closed) columns.

    Returns:
        The `Report`. When the ImageNet weights cannot be downloaded FID is dropped from `metrics` and a note
        says why.

    Raises:
        ValueError: For invalid images, mismatched shapes, labels of the wrong length, unknown metrics or a
            model named like a reference row.

    Example:

    ```python
    report = evaluate_predictions(truth, {"GAN": predicted}, labels=labels, class_names=class_names("cifar10"))
    print(report.to_markdown())
    ```
    """
    true_rgb = check_images(true_rgb, "true_rgb")
    predictions = check_predictions(true_rgb, predictions)
    labels = None if labels is None else check_labels(labels, len(true_rgb))
    metrics = _check_metrics(metrics)
    settings = MetricSettings(accuracy_threshold=accuracy_threshold, psnr_cap=psnr_cap)
    notes: list[str] = []
    accumulator = _fid_accumulator(fid_weights, fid_image_size, notes) if "fid" in metrics else None
    if "fid" in metrics and accumulator is None:
        metrics.remove("fid")
    judge_metrics = ["judge", "judge_gap", "judge_probability", "judge_probability_gap"]
    metrics = [metric for metric in metrics if metric not in judge_metrics]
    image_metrics = [metric for metric in metrics if get_metric(metric).compute is not None]
    per_image = _score_images(true_rgb, predictions, image_metrics, settings, accumulator, batch_size, verbose)
    rows = list(per_image)
    if judge is not None:
        if labels is None:
            raise ValueError("a judge needs the images' labels: pass labels=.")
        from kcolor.evaluation.judge import semantic_interpretability

        judged = semantic_interpretability(judge, true_rgb, labels, predictions)
        for row in rows:
            per_image[row]["judge"] = judged.correct[row]
            per_image[row]["judge_probability"] = judged.right_class_probability[row]
        metrics += judge_metrics
        notes.append(f"Judge: {judged.judge}.")
    overall = {row: {metric: _mean(values) for metric, values in per_image[row].items()} for row in rows}
    if judge is not None:
        for row in rows:
            for metric, measure in (("judge_gap", "accuracy"), ("judge_probability_gap", "probability")):
                gap = judged.gap_closed(row, measure)
                overall[row][metric] = None if np.isnan(gap) else gap  # None: the judge does not use color
    if accumulator is not None:
        for row in rows:
            overall[row]["fid"] = accumulator.distance(TRUTH_ROW, row)
        notes += _fid_notes(len(true_rgb), fid_weights)
    per_class, class_counts = _split_by_class(per_image, labels, class_names)
    return Report(
        rows=rows,
        metrics=metrics,
        overall=overall,
        per_class=per_class,
        class_counts=class_counts,
        num_images=len(true_rgb),
        image_shape=tuple(true_rgb.shape[1:3]),
        settings=settings,
        notes=notes,
        per_image=per_image,
    )


def _score_images(
    true_rgb: np.ndarray,
    predictions: dict[str, np.ndarray],
    image_metrics: list[str],
    settings: MetricSettings,
    accumulator: FIDAccumulator | None,
    batch_size: int,
    verbose: bool,
) -> dict[str, dict[str, np.ndarray]]:
    """One pass over the data: per-image scores of every row, FID features collected on the way."""
    rows = [GRAY_ROW, *predictions, TRUTH_ROW]
    collected = {row: {metric: [] for metric in image_metrics} for row in rows}
    with ProgressBar(len(true_rgb), "Evaluating", enabled=verbose) as progress:
        for batch in batch_slices(len(true_rgb), batch_size):
            true_batch = true_rgb[batch]
            true_lab = lab_from_rgb8(true_batch)
            sources = {GRAY_ROW: gray_from_lab(true_lab)}
            sources.update({name: images[batch] for name, images in predictions.items()})
            sources[TRUTH_ROW] = true_batch
            for row, images in sources.items():
                comparison = ImageComparison(
                    true_batch, images, true_lab=true_lab, pred_lab=true_lab if row == TRUTH_ROW else None
                )
                for metric in image_metrics:
                    collected[row][metric].append(get_metric(metric).compute(comparison, settings))
                if accumulator is not None:
                    accumulator.update(row, images)
            progress.update(len(true_batch))
    return {
        row: {metric: np.concatenate(values).astype(np.float32) for metric, values in by_metric.items()}
        for row, by_metric in collected.items()
    }


def _mean(values: np.ndarray) -> float:
    return float(np.mean(values, dtype=np.float64))


def _fid_notes(num_images: int, weights) -> list[str]:
    notes = []
    if weights is None:
        notes.append("FID used random InceptionV3 weights: the values only test the code path and mean nothing.")
    if num_images < FID_RELIABLE_IMAGES:
        notes.append(
            f"FID on {num_images} images (< {FID_RELIABLE_IMAGES}) is biased upwards; "
            "compare it only between rows of reports on the same images."
        )
    return notes


def _split_by_class(
    per_image: dict[str, dict[str, np.ndarray]], labels: np.ndarray | None, class_names: Sequence[str] | None
) -> tuple[dict, dict]:
    if labels is None:
        return {}, {}
    per_class, class_counts = {}, {}
    for label in np.unique(labels):
        mask = labels == label
        name = class_name(int(label), class_names)
        class_counts[name] = int(mask.sum())
        per_class[name] = {
            row: {metric: _mean(values[mask]) for metric, values in by_metric.items()}
            for row, by_metric in per_image.items()
        }
    return per_class, class_counts


def _is_keras_model(model) -> bool:
    keras = sys.modules.get("keras")
    return keras is not None and isinstance(model, keras.Model)


def predict_all(models: Mapping[str, object], images, batch_size: int = 64) -> dict[str, np.ndarray]:
    """Colorizes the images with every model.

    Args:
        models: Name to a Keras generator (run through `kcolor.colorize.colorize`) or a
            `predict(images) -> images` callable taking and returning uint8 RGB batches.
        images: `(N, H, W, 3)` uint8 RGB images (their color is ignored by the generators, which see only L*).
        batch_size: Batch size of the generators.

    Returns:
        Name to `(N, H, W, 3)` uint8 predictions.

    Raises:
        ValueError: If a model returns images of the wrong shape or dtype.

    Example:

    ```python
    predictions = predict_all({"GAN": generator}, images)
    ```
    """
    images = check_images(images)
    predictions = {}
    for name, model in models.items():
        if _is_keras_model(model):
            from kcolor.colorize import colorize

            predicted = colorize(model, images, batch_size=batch_size)
        elif isinstance(model, Callable):
            predicted = model(images)
        else:
            raise ValueError(f"models[{name!r}] is neither a Keras model nor a callable: {type(model).__name__}.")
        predictions[name] = check_predictions(images, {name: predicted})[name]
    return predictions


def evaluate_generator(
    generators, true_rgb, labels=None, class_names: Sequence[str] | None = None, predict_batch_size: int = 64, **options
) -> Report:
    """Colorizes the images with each generator and evaluates the predictions.

    Args:
        generators: Name to Keras generator (or `predict(images) -> images` callable); a single model is named
            `"model"`.
        true_rgb: `(N, H, W, 3)` uint8 ground truth; the generators see its L* only.
        labels: Optional `(N,)` integer class labels.
        class_names: Optional names indexed by label.
        predict_batch_size: Batch size for the generators.
        **options: Passed to `evaluate_predictions` (`metrics`, `fid_weights`, `batch_size`, `verbose`...).

    Returns:
        The `Report`. To draw figures too, call `predict_all` and `evaluate_predictions` yourself and keep the
        predictions.

    Raises:
        ValueError: As `evaluate_predictions`.

    Example:

    ```python
    images, labels = load_arrays("cifar10", "test", 32, limit=1000)
    report = evaluate_generator({"GAN": generator}, images, labels)
    ```
    """
    if not isinstance(generators, Mapping):
        generators = {"model": generators}
    predictions = predict_all(generators, true_rgb, predict_batch_size)
    return evaluate_predictions(true_rgb, predictions, labels=labels, class_names=class_names, **options)
