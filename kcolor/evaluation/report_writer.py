"""Writes an evaluation report to a folder: JSON, Markdown and PNG figures.

`write_report` turns a `kcolor.evaluation.report.Report` and the
images it was computed on into `metrics.json` (for scripts and the CLI),
`report.md` (tables plus the figures embedded by relative path, readable on
GitHub or in Jupyter) and the PNG figures beside them: comparison grid, a*b*
histograms, best/worst examples per model and the training curves.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from kcolor.evaluation.curves import loss_curves
from kcolor.evaluation.grids import best_and_worst, comparison_grid
from kcolor.evaluation.histograms import ab_histograms
from kcolor.evaluation.report import Report

#: Metrics that rank predictions in the best/worst figures, in order of preference.
RANKING_METRICS = ("accuracy", "auc", "psnr", "ssim")


def _file_stem(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "model"


def _close(figure) -> None:
    """Frees a figure once it is saved (pyplot keeps every figure open)."""
    import matplotlib.pyplot as plt

    plt.close(figure)


def _image_figures(
    report: Report,
    out_dir: Path,
    true_rgb,
    predictions: Mapping[str, np.ndarray],
    labels,
    class_names,
    num_examples: int,
    seed: int,
) -> list[tuple[str, str, str]]:
    figures = []
    _close(
        comparison_grid(
            true_rgb,
            predictions,
            count=num_examples,
            seed=seed,
            labels=labels,
            class_names=class_names,
            path=out_dir / "comparison.png",
        )
    )
    figures.append(("Examples", "comparison.png", "Random test images: gray input, each model, ground truth."))
    _close(ab_histograms(true_rgb, predictions, path=out_dir / "ab_histograms.png"))
    figures.append(
        (
            "Colour distribution",
            "ab_histograms.png",
            "Where the pixels fall in the a*b* plane (log scale). Mass crowded at the centre "
            "means washed-out colours; compare each model's spread with the ground truth.",
        )
    )
    metric = next((metric for metric in RANKING_METRICS if metric in report.metrics), "accuracy")
    for name, images in predictions.items():
        scores = report.per_image.get(name, {}).get(metric)
        if scores is not None and len(scores) != len(images):
            scores = None
        file_name = f"best_worst_{_file_stem(name)}.png"
        _close(
            best_and_worst(
                true_rgb,
                images,
                metric=metric,
                count=num_examples,
                scores=scores,
                settings=report.settings,
                name=name,
                path=out_dir / file_name,
            )
        )
        figures.append(
            (f"Best and worst: {name}", file_name, f"The images {name} gets most and least right by {metric}.")
        )
    return figures


def write_report(
    report: Report,
    out_dir: str | Path,
    true_rgb=None,
    predictions: Mapping[str, np.ndarray] | None = None,
    labels=None,
    class_names: Sequence[str] | None = None,
    history_csv: str | Path | Mapping[str, str | Path] | None = None,
    num_examples: int = 6,
    seed: int = 0,
    title: str = "Colorization report",
) -> dict[str, Path | list[Path]]:
    """Writes `metrics.json`, `report.md` and PNG figures into `out_dir`.

    Args:
        report: The result of `kcolor.evaluation.report.evaluate_predictions`.
        out_dir: Folder to write into (created if needed; files are overwritten).
        true_rgb: The `(N, H, W, 3)` uint8 ground truth of the report; without
            it no image figures are drawn.
        predictions: Model name to predictions, as given to the report.
        labels: Optional `(N,)` labels, shown beside the comparison grid.
        class_names: Optional names indexed by label.
        history_csv: A Keras `history.csv` or run name to such files, for
            the loss curves.
        num_examples: Images in the comparison grid and per best/worst group.
        seed: Seed of the random comparison images.
        title: Heading of `report.md`.

    Returns:
        `{"metrics": metrics.json path, "report": report.md path,
        "figures": [PNG paths]}`.

    Raises:
        ValueError: For invalid images (see the figure functions).
        FileNotFoundError: If `history_csv` does not exist.

    Example:
        >>> paths = write_report(report, "runs/gan/eval", truth, {"GAN": predicted},
        ...                      history_csv="runs/gan/history.csv")  # doctest: +SKIP
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    figures = []
    if true_rgb is not None:
        figures += _image_figures(report, out_dir, true_rgb, predictions or {}, labels, class_names, num_examples, seed)
    if history_csv is not None:
        _close(loss_curves(history_csv, path=out_dir / "loss_curves.png"))
        figures.append(
            ("Training curves", "loss_curves.png", "Losses and validation metrics per epoch (validation dashed).")
        )

    metrics_path = out_dir / "metrics.json"
    metrics_path.write_text(json.dumps(report.to_dict(), indent=2) + "\n")
    sections = [report.to_markdown(title).rstrip()]
    if figures:
        sections.append("## Figures")
        sections += [
            f"### {heading}\n\n{caption}\n\n![{heading}]({file_name})" for heading, file_name, caption in figures
        ]
    markdown_path = out_dir / "report.md"
    markdown_path.write_text("\n\n".join(sections) + "\n")
    return {
        "metrics": metrics_path,
        "report": markdown_path,
        "figures": [out_dir / file_name for _, file_name, _ in figures],
    }
