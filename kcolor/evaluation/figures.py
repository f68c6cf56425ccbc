"""Small matplotlib helpers shared by the evaluation figures.

All figure functions of `kcolor.evaluation` build a grid of axes with
`image_grid` (or plain `plt.subplots`), draw images with
`show_image` and end with `finish_figure`, which lays the figure
out, optionally saves it as PNG and returns it. Figures are created with
pyplot so that they display inline in notebooks; close them with
`plt.close(figure)` when drawing many in a script.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def image_grid(rows: int, columns: int, cell_inches: float = 1.6):
    """Creates a figure with a `rows x columns` grid of axes without ticks.

    Args:
        rows: Number of rows.
        columns: Number of columns.
        cell_inches: Side of each cell in inches.

    Returns:
        `(figure, axes)` with `axes` a 2-D array of shape `(rows, columns)`.
    """
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(rows, columns, figsize=(columns * cell_inches, rows * cell_inches + 0.4), squeeze=False)
    for axis in axes.ravel():
        axis.set_xticks([])
        axis.set_yticks([])
    return figure, axes


def show_image(axis, image: np.ndarray, title: str | None = None, row_label: str | None = None) -> None:
    """Draws a uint8 RGB image on an axis with crisp (nearest) pixels.

    Args:
        axis: A matplotlib axis.
        image: `(H, W, 3)` uint8 RGB.
        title: Optional text above the image.
        row_label: Optional text left of the image (for the first column).
    """
    axis.imshow(image, interpolation="nearest")
    if title:
        axis.set_title(title, fontsize=9)
    if row_label:
        axis.set_ylabel(row_label, fontsize=9)


def finish_figure(figure, path: str | Path | None = None, title: str | None = None, tight: bool = True):
    """Lays out a figure and saves it as PNG when `path` is given.

    Args:
        figure: A matplotlib figure.
        path: Optional file to write; parent folders are created.
        title: Optional figure title.
        tight: Whether to apply `tight_layout` (not with shared colorbars).

    Returns:
        The same figure.
    """
    if title:
        figure.suptitle(title)
    if tight:
        figure.tight_layout()
    if path is not None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path, dpi=120, bbox_inches="tight")
    return figure
