"""Semantic interpretability: does a classifier recognise the colorized photo as well as the real one?

Pixel metrics reward gray: a confident wrong hue costs more PSNR than no hue at all. Zhang, Isola & Efros
(2016) judge colorizations perceptually instead, with a classifier trained on color photos. It classifies the
validation photos three ways: as they are (*ground truth*), as gray (L* kept, a* = b* = 0) and as each model's
colorization. Color helps the classifier, so the gray photos score lower than the truth, and a model's
colorizations score somewhere between: the share of the gray-to-truth gap a model closes,

    gap closed = (accuracy(model) - accuracy(gray)) / (accuracy(truth) - accuracy(gray)),

is 0 for a model that adds nothing a classifier can use and 1 for colors as informative as the real ones
(Zhang et al.: 52.7 % gray, 56.0 % colorized, 68.3 % real on ImageNet with VGG-16, so 21 % of the gap).

Top-1 accuracy moves only when a photo crosses the judge's decision boundary, so on a few hundred photos two
models can tie within the noise while the judge is clearly surer of one of them. The same gap is therefore also
measured with the probability the judge gives the true class (`measure="probability"`), and
`SemanticInterpretability.difference_interval` says whether one model closes more of it than another by more
than the bootstrap noise of the photos.

This module measures it. A `SemanticJudge` (`kcolor.evaluation.semantic_judge`) wraps any Keras classifier;
`build_judge_classifier` and `train_judge` (`kcolor.evaluation.judge_training`) make a small one on a
dataset's training split (`kcolor judge train`); `imagenet_judge` wraps a `keras.applications` ImageNet
classifier, which can judge Imagenette directly since its ten classes are ImageNet classes. All of them stay
importable from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

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
    "MEASURES",
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


MEASURES = ("accuracy", "probability")
"""How the judge scores a row: its top-1 `accuracy`, or the mean `probability` it gives the true class (the same
gap arithmetic; smoother, so a few hundred photos separate models whose accuracies tie within the noise)."""


@dataclass
class SemanticInterpretability:
    """The judge's accuracy on the truth, on gray and on each model's colorizations.

    Attributes:
        accuracy: Row name (`"gray"`, the models, `"ground truth"`) to top-1 accuracy.
        correct: Row name to the `(N,)` 0/1 per-image correctness.
        judge: The judge's name.
        probability: Row name to the mean probability the judge gives the true class.
        right_class_probability: Row name to that probability per image, `(N,)`.

    Example:

    ```python
    result = semantic_interpretability(judge, images, labels, {"GAN": colorized})
    print(result.table_markdown())
    result.difference_interval("GAN", "U-Net", measure="probability")   # 95 % bootstrap interval
    ```
    """

    accuracy: dict[str, float]
    correct: dict[str, np.ndarray]
    judge: str = "judge"
    probability: dict[str, float] = field(default_factory=dict)
    right_class_probability: dict[str, np.ndarray] = field(default_factory=dict)

    def gap_closed(self, row: str, measure: str = "accuracy") -> float:
        """The share of the gray-to-truth gap that `row` closes (nan when truth is not above gray).

        Args:
            row: A row name.
            measure: One of `MEASURES`.
        """
        values = self._values(measure)
        return gap_closed(values[row], values[GRAY_ROW], values[TRUTH_ROW])

    def difference_interval(
        self, row: str, baseline: str, measure: str = "probability", *, resamples: int = 2000, seed: int = 0
    ) -> tuple[float, float]:
        """A 95 % bootstrap interval of `gap_closed(row) - gap_closed(baseline)` over the photos.

        Each resample draws the photos with replacement and recomputes both gaps on the same draw (gray and
        truth included), so the interval is the noise of this many photos, not of the judge or of training.

        Args:
            row: The model to compare (e.g. `"GAN"`).
            baseline: The model it is compared with (e.g. `"U-Net"`).
            measure: One of `MEASURES`.
            resamples: Bootstrap draws.
            seed: Seeds the draws.

        Returns:
            `(low, high)`: the 2.5th and 97.5th percentiles; an interval above 0 means `row` closes more of the
            gap than `baseline` by more than the noise.
        """
        count = len(self.correct[TRUTH_ROW])
        draws = np.random.default_rng(seed).integers(0, count, (resamples, count))
        difference = self.gap_by_resample(row, draws, measure) - self.gap_by_resample(baseline, draws, measure)
        low, high = np.nanpercentile(difference, [2.5, 97.5])
        return float(low), float(high)

    def gap_by_resample(self, row: str, draws: np.ndarray, measure: str = "accuracy") -> np.ndarray:
        """`gap_closed(row)` recomputed on each bootstrap draw of the photos (gray and truth on the same draw).

        Args:
            row: A row name.
            draws: `(resamples, N)` photo indices, one draw per row; pass the same draws for every row whose
                gaps are compared, so that their difference is paired.
            measure: One of `MEASURES`.

        Returns:
            `(resamples,)` gaps; nan where a draw's truth is no more recognisable than its gray.
        """
        per_image = self._values(measure, per_image=True)
        means = {name: per_image[name][draws].mean(axis=1) for name in (row, GRAY_ROW, TRUTH_ROW)}
        with np.errstate(divide="ignore", invalid="ignore"):
            return (means[row] - means[GRAY_ROW]) / (means[TRUTH_ROW] - means[GRAY_ROW])

    def table_markdown(self) -> str:
        """A Markdown table of the judge's accuracy, its right-class probability and the gaps, one row per source."""
        if not self.probability:
            lines = ["| Source | Judge accuracy | Gap closed |", "| --- | --- | --- |"]
            lines += [f"| {row} | {value:.1%} | {_percent(self.gap_closed(row))} |" for row, value in self.accuracy.items()]
            return "\n".join(lines)
        lines = [
            "| Source | Judge accuracy | Gap closed | Right-class probability | Gap closed (probability) |",
            "| --- | --- | --- | --- | --- |",
        ]
        lines += [
            f"| {row} | {value:.1%} | {_percent(self.gap_closed(row))} | {self.probability[row]:.1%} "
            f"| {_percent(self.gap_closed(row, 'probability'))} |"
            for row, value in self.accuracy.items()
        ]
        return "\n".join(lines)

    def _values(self, measure, per_image=False):
        if measure not in MEASURES:
            raise ValueError(f"unknown measure {measure!r}: choose one of {', '.join(MEASURES)}.")
        if measure == "accuracy":
            return self.correct if per_image else self.accuracy
        if not self.probability:
            raise ValueError("this result has no probabilities: make it with semantic_interpretability.")
        return self.right_class_probability if per_image else self.probability


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
    beliefs = {row: judge.probabilities(images) for row, images in rows.items()}
    correct = {row: (np.argmax(values, axis=-1) == labels).astype(np.float32) for row, values in beliefs.items()}
    right = {row: values[np.arange(len(labels)), labels] for row, values in beliefs.items()}
    accuracy = {row: float(np.mean(values)) if len(values) else float("nan") for row, values in correct.items()}
    probability = {row: float(np.mean(values)) if len(values) else float("nan") for row, values in right.items()}
    return SemanticInterpretability(
        accuracy=accuracy, correct=correct, judge=judge.name, probability=probability, right_class_probability=right
    )


def _percent(value: float) -> str:
    return "–" if np.isnan(value) else f"{value:.0%}"
