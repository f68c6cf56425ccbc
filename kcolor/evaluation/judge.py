"""Semantic interpretability: does a classifier recognise the colorized photo as well as the real one?

Pixel metrics reward gray: a confident wrong hue costs more PSNR than no hue at all. Zhang, Isola & Efros
(2016) judge colorizations perceptually instead, with a classifier trained on color photos. It classifies the
validation photos three ways: as they are (*ground truth*), as gray (L* kept, a* = b* = 0) and as each model's
colorization. Color helps the classifier, so the gray photos score lower than the truth, and a model's
colorizations score somewhere between: the share of the gray-to-truth gap a model closes,

    gap closed = (accuracy(model) - accuracy(gray)) / (accuracy(truth) - accuracy(gray)),

is 0 for a model that adds nothing a classifier can use and 1 for colors as informative as the real ones
(Zhang et al.: 52.7 % gray, 56.0 % colorized, 68.3 % real on ImageNet with VGG-16, so 21 % of the gap).

This module measures it. A `SemanticJudge` (`kcolor.evaluation.semantic_judge`) wraps any Keras classifier;
`build_judge_classifier` and `train_judge` (`kcolor.evaluation.judge_training`) make a small one on a
dataset's training split (`kcolor judge train`); `imagenet_judge` wraps a `keras.applications` ImageNet
classifier, which can judge Imagenette directly since its ten classes are ImageNet classes. All of them stay
importable from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from kcolor.evaluation.judge_training import JUDGE_IMAGE_SIZE, build_judge_classifier, train_judge
from kcolor.evaluation.lab import gray_reference
from kcolor.evaluation.semantic_judge import (
    IMAGENET_PREFIX,
    IMAGENETTE_CLASS_NAMES,
    IMAGENETTE_IMAGENET_INDICES,
    SemanticJudge,
    imagenet_judge,
    judge_from_spec,
    load_judge,
    readable_class_names,
)
from kcolor.evaluation.validation import GRAY_ROW, TRUTH_ROW, check_images, check_labels

__all__ = [
    "IMAGENET_PREFIX",
    "IMAGENETTE_CLASS_NAMES",
    "IMAGENETTE_IMAGENET_INDICES",
    "JUDGE_IMAGE_SIZE",
    "SemanticInterpretability",
    "SemanticJudge",
    "build_judge_classifier",
    "gap_closed",
    "imagenet_judge",
    "judge_from_spec",
    "load_judge",
    "readable_class_names",
    "semantic_interpretability",
    "train_judge",
]


@dataclass
class SemanticInterpretability:
    """The judge's accuracy on the truth, on gray and on each model's colorizations.

    Attributes:
        accuracy: Row name (`"gray"`, the models, `"ground truth"`) to top-1 accuracy.
        correct: Row name to the `(N,)` 0/1 per-image correctness.
        judge: The judge's name.

    Example:

    ```python
    result = semantic_interpretability(judge, images, labels, {"GAN": colorized})
    print(result.table_markdown())
    ```
    """

    accuracy: dict[str, float]
    correct: dict[str, np.ndarray]
    judge: str = "judge"

    def gap_closed(self, row: str) -> float:
        """The share of the gray-to-truth accuracy gap that `row` closes (nan when truth is not above gray)."""
        return gap_closed(self.accuracy[row], self.accuracy[GRAY_ROW], self.accuracy[TRUTH_ROW])

    def table_markdown(self) -> str:
        """A Markdown table of the judge's accuracy and the gap closed, one row per source."""
        lines = ["| Source | Judge accuracy | Gap closed |", "| --- | --- | --- |"]
        lines += [f"| {row} | {value:.1%} | {_percent(self.gap_closed(row))} |" for row, value in self.accuracy.items()]
        return "\n".join(lines)


def gap_closed(accuracy: float, gray_accuracy: float, truth_accuracy: float) -> float:
    """`(accuracy - gray) / (truth - gray)`: 0 = as recognisable as gray, 1 = as the real photos.

    Args:
        accuracy: The judge's accuracy on a model's colorizations.
        gray_accuracy: Its accuracy on the gray photos.
        truth_accuracy: Its accuracy on the real photos.

    Returns:
        The share of the gap closed; nan when the truth is not more recognisable than gray (the judge does not
        use color).

    Example:

    ```python
    round(gap_closed(0.560, 0.527, 0.683), 2)   # 0.21: Zhang et al. 2016 on ImageNet
    ```
    """
    gap = truth_accuracy - gray_accuracy
    return float("nan") if gap <= 0 else float((accuracy - gray_accuracy) / gap)


def semantic_interpretability(
    judge: SemanticJudge, true_rgb, labels, predictions: Mapping[str, np.ndarray] | None = None
) -> SemanticInterpretability:
    """Classifies the truth, its gray version and every model's colorization of it.

    Args:
        judge: A `SemanticJudge`.
        true_rgb: `(N, H, W, 3)` uint8 color photos.
        labels: `(N,)` integer labels of the photos, as the judge numbers them.
        predictions: Model name to `(N, H, W, 3)` uint8 colorizations of the same photos.

    Returns:
        A `SemanticInterpretability` with rows gray, the models, ground truth.

    Example:

    ```python
    result = semantic_interpretability(judge, images, labels, {"GAN": colorized})
    result.gap_closed("GAN")
    ```
    """
    true_rgb = check_images(true_rgb, "true_rgb")
    labels = check_labels(labels, len(true_rgb))
    rows = {GRAY_ROW: gray_reference(true_rgb), **dict(predictions or {}), TRUTH_ROW: true_rgb}
    correct = {row: judge.correct(images, labels) for row, images in rows.items()}
    accuracy = {row: float(np.mean(values)) if len(values) else float("nan") for row, values in correct.items()}
    return SemanticInterpretability(accuracy=accuracy, correct=correct, judge=judge.name)


def _percent(value: float) -> str:
    return "–" if np.isnan(value) else f"{value:.0%}"
