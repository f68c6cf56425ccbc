"""`Report`: the result of an evaluation, every metric for every row, and its Markdown tables.

`kcolor.evaluation.report.evaluate_predictions` computes a `Report`; this module holds it and turns it into
text: a summary table with one row per source, from *gray* (no color) through the models to *ground truth*
(perfect), and per-class tables when the images have labels. `kcolor.evaluation.report_writer` writes it to
files with figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from kcolor.evaluation.comparison import MetricSettings
from kcolor.evaluation.metrics import get_metric
from kcolor.evaluation.validation import GRAY_ROW, TRUTH_ROW


@dataclass
class Report:
    """Metric values of the reference rows and the models, overall and per class.

    Attributes:
        rows: Row names in display order: `"gray"`, the models, `"ground truth"`.
        metrics: Metric keys that were computed (see `kcolor.evaluation.metrics.METRICS`).
        overall: `overall[row][metric]`, the mean over all images (FID: the distance of the row's images to the
            truth).
        per_class: `per_class[class_name][row][metric]` for the per-image metrics; empty without labels.
        class_counts: Number of images of each class, in `per_class` order.
        num_images: Number of evaluated images.
        image_shape: `(height, width)` of the images.
        settings: The metric parameters used.
        notes: Remarks for the reader (skipped metrics, caveats).
        per_image: `per_image[row][metric]`, `(N,)` float32 values, for best/worst figures; not written to JSON.

    Example:

    ```python
    report = evaluate_predictions(truth, {"GAN": predicted}, metrics=("accuracy",))
    report.overall["GAN"]["accuracy"]   # e.g. 0.62
    ```
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
            Keys `num_images`, `image_shape`, `rows`, `metrics`, `overall`, `per_class`, `class_counts`,
            `settings`, `notes`, with plain Python floats.
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
            class_label: A key of `per_class` to show that class only; `None` for all images.

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
