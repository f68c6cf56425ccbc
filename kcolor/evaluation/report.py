"""Evaluation reports: every metric for every model, between two reference rows.

:func:`evaluate_predictions` scores predicted images against the ground truth
and returns a :class:`Report` whose rows are

* **gray**: the truth's L* with a* = b* = 0, a model that adds no colour;
* one row per model;
* **ground truth**: the truth compared with itself, the best possible score,

so a student sees where each model sits between "no colour" and "perfect".
With labels the report also splits every per-image metric by class. All
metrics are computed in one pass over the data in batches (with a progress
bar), so thousands of images are fine. :func:`evaluate_generator` colorizes
the images with Keras generators first (via :func:`kcolor.colorize.colorize`).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from kcolor.evaluation.batching import DEFAULT_BATCH_SIZE, ProgressBar, batch_slices
from kcolor.evaluation.frechet_inception import FID_IMAGE_SIZE, FIDAccumulator, FIDUnavailableError, InceptionFeatures
from kcolor.evaluation.lab import gray_from_lab, rgb_to_lab
from kcolor.evaluation.metrics import ImageComparison, MetricSettings, get_metric
from kcolor.evaluation.validation import (
    GRAY_ROW,
    TRUTH_ROW,
    check_images,
    check_labels,
    check_predictions,
    class_name,
)

#: Metrics of a report unless told otherwise (FID is skipped with a note when
#: the InceptionV3 ImageNet weights cannot be downloaded).
DEFAULT_METRICS = ("accuracy", "auc", "psnr", "ssim", "colorfulness", "fid")
#: Below this many images FID is noticeably biased (the Inception features have 2048 dimensions).
FID_RELIABLE_IMAGES = 2048


@dataclass
class Report:
    """Metric values of the reference rows and the models, overall and per class.

    Attributes:
        rows: Row names in display order: ``"gray"``, the models,
            ``"ground truth"``.
        metrics: Metric keys that were computed (see
            :data:`kcolor.evaluation.metrics.METRICS`).
        overall: ``overall[row][metric]``, the mean over all images (FID: the
            distance of the row's images to the truth).
        per_class: ``per_class[class_name][row][metric]`` for the per-image
            metrics; empty without labels.
        class_counts: Number of images of each class, in ``per_class`` order.
        num_images: Number of evaluated images.
        image_shape: ``(height, width)`` of the images.
        settings: The metric parameters used.
        notes: Remarks for the reader (skipped metrics, caveats).
        per_image: ``per_image[row][metric]``, ``(N,)`` float32 values, for
            best/worst figures; not written to JSON.

    Example:
        >>> report = evaluate_predictions(truth, {"GAN": predicted}, metrics=("accuracy",))  # doctest: +SKIP
        >>> report.overall["GAN"]["accuracy"]  # doctest: +SKIP
        0.62
    """

    rows: list[str]
    metrics: list[str]
    overall: dict[str, dict[str, float]]
    per_class: dict[str, dict[str, dict[str, float]]]
    class_counts: dict[str, int]
    num_images: int
    image_shape: tuple[int, int]
    settings: MetricSettings
    notes: list[str] = field(default_factory=list)
    per_image: dict[str, dict[str, np.ndarray]] = field(default_factory=dict, repr=False)

    @property
    def model_rows(self) -> list[str]:
        """The rows that are models, without the two references."""
        return [row for row in self.rows if row not in (GRAY_ROW, TRUTH_ROW)]

    def to_dict(self) -> dict:
        """Returns a JSON-serialisable dict (no per-image values).

        Returns:
            Keys ``num_images``, ``image_shape``, ``rows``, ``metrics``,
            ``overall``, ``per_class``, ``class_counts``, ``settings``,
            ``notes``, with plain Python floats.
        """
        return {
            "num_images": self.num_images,
            "image_shape": list(self.image_shape),
            "rows": list(self.rows),
            "metrics": list(self.metrics),
            "overall": self.overall,
            "per_class": self.per_class,
            "class_counts": self.class_counts,
            "settings": asdict(self.settings),
            "notes": list(self.notes),
        }

    def table_markdown(self, class_label: str | None = None) -> str:
        """A Markdown table with one row per source and one column per metric.

        Args:
            class_label: A key of ``per_class`` to show that class only;
                ``None`` for all images.

        Returns:
            The table as Markdown text.

        Raises:
            ValueError: For an unknown class.
        """
        if class_label is None:
            values, metrics = self.overall, self.metrics
        elif class_label in self.per_class:
            values = self.per_class[class_label]
            metrics = [metric for metric in self.metrics if get_metric(metric).per_image]
        else:
            raise ValueError(f"Unknown class {class_label!r}; the report has {list(self.per_class)}.")
        header = ["Source"] + [get_metric(metric).heading for metric in metrics]
        body = [[row] + [get_metric(metric).format(values[row].get(metric)) for metric in metrics] for row in self.rows]
        return _markdown_table(header, body)

    def per_class_markdown(self, metric: str) -> str:
        """A Markdown table of one metric with a row per class and a column per source.

        Args:
            metric: A per-image metric key of this report.

        Returns:
            The table as Markdown text (empty string without labels).

        Raises:
            ValueError: If the metric was not computed per class.
        """
        if not self.per_class:
            return ""
        if metric not in self.metrics or not get_metric(metric).per_image:
            raise ValueError(f"{metric!r} has no per-class values in this report.")
        definition = get_metric(metric)
        header = ["Class", "n"] + self.rows
        body = [
            [label, str(self.class_counts[label])] + [definition.format(rows[row][metric]) for row in self.rows]
            for label, rows in self.per_class.items()
        ]
        return _markdown_table(header, body)

    def to_markdown(self, title: str = "Colorization report", per_class: bool = True) -> str:
        """The whole report as Markdown: summary table, per-class tables, notes.

        Args:
            title: First-level heading.
            per_class: Whether to include the per-class tables.

        Returns:
            Markdown text.
        """
        height, width = self.image_shape
        parts = [
            f"# {title}",
            f"{self.num_images} images of {height}x{width} pixels. Rows run from *{GRAY_ROW}* "
            f"(the ground truth's L* with a* = b* = 0: no colour at all) to *{TRUTH_ROW}* "
            "(the truth compared with itself: the best possible score).",
            self.table_markdown(),
            "\n".join(
                f"- **{get_metric(metric).heading}**: {get_metric(metric).description}." for metric in self.metrics
            ),
        ]
        if per_class and self.per_class:
            for metric in self.metrics:
                if get_metric(metric).per_image:
                    parts += [f"## {get_metric(metric).title} by class", self.per_class_markdown(metric)]
        if self.notes:
            parts += ["## Notes", "\n".join(f"- {note}" for note in self.notes)]
        return "\n\n".join(parts) + "\n"

    def _repr_markdown_(self) -> str:
        return self.to_markdown()


def _markdown_table(header: Sequence[str], body: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(cells) + " |" for cells in body]
    return "\n".join(lines)


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
        true_rgb: ``(N, H, W, 3)`` uint8 ground truth.
        predictions: Model name to ``(N, H, W, 3)`` uint8 predictions of the
            same images, e.g. ``{"L1-only U-Net": a, "GAN": b}``; may be empty
            to see the reference rows only.
        labels: Optional ``(N,)`` integer class labels for per-class tables.
        class_names: Optional names indexed by label (e.g. CIFAR-10's).
        metrics: Metric keys, a subset of :data:`DEFAULT_METRICS`.
        accuracy_threshold: L* tolerance of the pixel accuracy.
        psnr_cap: PSNR (dB) reported for identical images.
        fid_weights: InceptionV3 weights for FID: ``"imagenet"``, a weights
            file, or ``None`` (random weights, to test the code path only).
        fid_image_size: Inception input side (299 for standard FIDs, >= 75).
        batch_size: Images evaluated at a time.
        verbose: Whether to show a progress bar.
        judge: Optional :class:`~kcolor.evaluation.judge.SemanticJudge`; with
            ``labels`` it adds the ``judge`` (accuracy) and ``judge_gap``
            (share of the gray-to-truth gap closed) columns.

    Returns:
        The :class:`Report`. When the ImageNet weights cannot be downloaded
        FID is dropped from ``metrics`` and a note says why.

    Raises:
        ValueError: For invalid images, mismatched shapes, labels of the wrong
            length, unknown metrics or a model named like a reference row.

    Example:
        >>> report = evaluate_predictions(truth, {"GAN": predicted}, labels=labels,
        ...                               class_names=class_names("cifar10"))  # doctest: +SKIP
        >>> print(report.to_markdown())  # doctest: +SKIP
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
    metrics = [metric for metric in metrics if metric not in ("judge", "judge_gap")]
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
        metrics += ["judge", "judge_gap"]
        notes.append(f"Judge: {judged.judge}.")
    overall = {row: {metric: _mean(values) for metric, values in per_image[row].items()} for row in rows}
    if judge is not None:
        for row in rows:
            gap = judged.gap_closed(row)
            overall[row]["judge_gap"] = None if np.isnan(gap) else gap  # None: the judge does not use color
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
            true_lab = rgb_to_lab(true_batch)
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
        models: Name to a Keras generator (run through
            :func:`kcolor.colorize.colorize`) or a ``predict(images) ->
            images`` callable taking and returning uint8 RGB batches.
        images: ``(N, H, W, 3)`` uint8 RGB images (their colour is ignored by
            the generators, which see only L*).
        batch_size: Batch size of the generators.

    Returns:
        Name to ``(N, H, W, 3)`` uint8 predictions.

    Raises:
        ValueError: If a model returns images of the wrong shape or dtype.
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
        generators: Name to Keras generator (or ``predict(images) -> images``
            callable); a single model is named ``"model"``.
        true_rgb: ``(N, H, W, 3)`` uint8 ground truth; the generators see its
            L* only.
        labels: Optional ``(N,)`` integer class labels.
        class_names: Optional names indexed by label.
        predict_batch_size: Batch size for the generators.
        **options: Passed to :func:`evaluate_predictions` (``metrics``,
            ``fid_weights``, ``batch_size``, ``verbose``...).

    Returns:
        The :class:`Report`. To draw figures too, call :func:`predict_all` and
        :func:`evaluate_predictions` yourself and keep the predictions.

    Raises:
        ValueError: As :func:`evaluate_predictions`.

    Example:
        >>> images, labels = load_arrays("cifar10", "test", 32, limit=1000)  # doctest: +SKIP
        >>> report = evaluate_generator({"GAN": generator}, images, labels)  # doctest: +SKIP
    """
    if not isinstance(generators, Mapping):
        generators = {"model": generators}
    predictions = predict_all(generators, true_rgb, predict_batch_size)
    return evaluate_predictions(true_rgb, predictions, labels=labels, class_names=class_names, **options)
