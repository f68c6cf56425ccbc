"""Draws the result pictures of the notebooks' Overview sections, `docs/overview_*.png`, with kcolor's own code.

    python docs/notebook_figures.py                # trains two small CPU models first, unless runs/figures/ has them
    python docs/notebook_figures.py --epochs 20    # train (or continue) the figure models longer
    python docs/notebook_figures.py --embed-only   # only copy the docs/ pictures into the notebooks again

The pictures:

    overview_lab_channels.png   L*, a* and b* channels of two sample photos (no model)
    overview_training.png       sample grids (gray | GAN | truth) written by `kcolor.training.train`
    overview_comparison.png     gray | L1-only U-Net | GAN | truth on held-out validation crops
    overview_photo.png          a black-and-white photo colorized at full resolution by the GAN

The two models are the course's smoke-mode runs (`kcolor.tutorial.course_config(smoke=True)`: the paper's
CIFAR-10 architecture at 1/8 width, 32 px crops of the offline `sample` photos) trained for more steps (12 full
passes over the sample crops at batch size 32), on a CPU, into `runs/figures/`; the figure titles say so. On a
shared 2-vCPU AMD EPYC (Zen 4, AVX-512 with bf16) VM that took about 6 minutes (GAN 225 s, U-Net 127 s). Running
the script again reuses those runs (it resumes them when `--epochs` asks for more). Every PNG is reduced to a
256-color palette to stay under 300 KB.

Each picture is then embedded in its notebook, in a markdown cell right after the Overview, as a
`data:image/png;base64` URI in the cell's source: a link to `../docs/` is a broken image on Colab and in any
notebook opened outside a checkout, and Colab does not render markdown cell *attachments* either
(googlecolab/colabtools#3836), while every notebook viewer renders a data URI. `tests/test_notebooks.py` checks
that the embedded bytes are those of a `docs/overview_*.png`, so after redrawing a picture run the script (or
`--embed-only`) before committing.
"""

import argparse
import base64
import dataclasses
import io
import os
import re
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("MPLBACKEND", "Agg")

import matplotlib.pyplot as plt
import nbformat
import numpy as np
from keras import ops
from PIL import Image
from skimage import data as skimage_data

from kcolor.color import lab_to_rgb, rgb_to_lab
from kcolor.colorize import colorize, colorize_photo
from kcolor.data import load_arrays
from kcolor.data.sample import sample_photos
from kcolor.evaluation import comparison_grid
from kcolor.evaluation.figures import image_grid, show_image
from kcolor.model_files import load_generator
from kcolor.training import train
from kcolor.tutorial import course_config

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
NOTEBOOKS = ROOT / "notebooks"
MAX_BYTES = 300 * 1024
# Each notebook's Overview picture and its alt text.
OVERVIEW_PICTURES = {
    "01_data_preparation.ipynb": ("overview_lab_channels.png", "A photo's L*, a* and b* channels"),
    "02_training_the_gan.ipynb": ("overview_training.png", "Sample grids of the GAN during training"),
    "03_evaluation.ipynb": ("overview_comparison.png", "Gray input, L1-only U-Net, GAN and ground truth"),
    "04_colorize_your_photos.ipynb": ("overview_photo.png", "A black-and-white photo colorized at full resolution"),
}
PICTURE_CELL_ID = "overview-picture"


def save_png(figure, name):
    """Saves a figure as a 256-color PNG under docs/ and closes it; fails if the file is over 300 KB."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    plt.close(figure)
    picture = Image.open(buffer).convert("RGB").quantize(colors=256)
    path = DOCS / name
    picture.save(path, optimize=True)
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise RuntimeError(f"{path} is {size / 1024:.0f} KB, over the {MAX_BYTES // 1024} KB limit.")
    print(f"wrote {path.relative_to(ROOT)} ({size / 1024:.0f} KB)")
    return path


def channel_views(photo):
    """The photo's L*, a* and b* channels as RGB pictures: L* as gray, a* and b* each alone at L* = 70."""
    lab = ops.convert_to_numpy(rgb_to_lab(photo))
    lightness, a, b = lab[..., :1], lab[..., 1:2], lab[..., 2:3]
    zero, light = np.zeros_like(lightness), np.full_like(lightness, 70.0)
    views = {
        "L*: the gray input": (lightness, zero, zero),
        "a* alone: green to red": (light, a, zero),
        "b* alone: blue to yellow": (light, zero, b),
    }
    return {title: ops.convert_to_numpy(lab_to_rgb(np.concatenate(parts, axis=-1))) for title, parts in views.items()}


def lab_channels_figure(names=("chelsea", "coffee")):
    """Rows of photo | L* | a* | b* for sample photos."""
    photos = {photo.name: photo.pixels for photo in sample_photos()}
    figure, axes = plt.subplots(len(names), 4, figsize=(12, 2.3 * len(names)), squeeze=False)
    for row, name in zip(axes, names):
        views = {f"{name}": photos[name], **channel_views(photos[name])}
        for axis, (title, image) in zip(row, views.items()):
            axis.imshow(image)
            axis.set_title(title, fontsize=10)
            axis.axis("off")
    figure.suptitle("A photo in CIE L*a*b*: the model gets L* (the detail) and predicts a* and b* (the smooth color)")
    figure.tight_layout()
    return figure


def figure_configs(epochs):
    """The course's smoke-mode configurations, trained for `epochs` full passes over the sample crops."""
    course_dir = ROOT / "runs" / "figures"
    return {
        kind: dataclasses.replace(
            course_config(kind, smoke=True, course_dir=course_dir),
            epochs=epochs, batch_size=32, steps_per_epoch=None, verbose=2, resume=True,
        )  # fmt: skip
        for kind in ("gan", "l1")
    }


def train_figure_models(configs):
    """Trains (or finishes) the figure runs; returns the wall time per run in seconds (0 when already done)."""
    seconds = {}
    for kind, config in configs.items():
        start = time.perf_counter()
        train(config)
        seconds[kind] = time.perf_counter() - start
        print(f"{kind}: {seconds[kind]:.0f} s")
    return seconds


def describe(config):
    width = f"1/{round(1 / config.width_multiplier)}" if config.width_multiplier < 1 else "full"
    return (f"{width}-width nazeri-cifar, {config.image_size} px crops of the offline sample photos, "
            f"{config.epochs} epochs, trained on a CPU")


def training_figure(config):
    """The sample grids that training wrote after the first, a middle and the last epoch, side by side."""
    grids = sorted((Path(config.out) / "samples").glob("epoch_*.png"))
    chosen = [grids[0], grids[len(grids) // 2], grids[-1]] if len(grids) >= 3 else grids
    figure, axes = plt.subplots(1, len(chosen), figsize=(3.0 * len(chosen), 5.4), squeeze=False)
    for axis, path in zip(axes[0], chosen):
        axis.imshow(Image.open(path))
        axis.set_title(f"after epoch {int(path.stem.split('_')[1])}\ngray | GAN | truth", fontsize=10)
        axis.axis("off")
    figure.suptitle(f"GAN sample grids during training\n({describe(config)})", fontsize=10)
    figure.tight_layout()
    return figure


def comparison_figure(configs):
    """gray | L1-only U-Net | GAN | truth on validation crops the models never trained on."""
    gan = configs["gan"]
    images, _ = load_arrays(gan.dataset, "validation", gan.image_size, limit=64, seed=0)
    predictions = {
        "L1-only U-Net": colorize(load_generator(configs["l1"].out), images),
        "GAN": colorize(load_generator(gan.out), images),
    }
    figure = comparison_grid(images, predictions, count=5, seed=1)
    figure.suptitle(f"Held-out validation crops\n({describe(gan)})", fontsize=9)
    figure.tight_layout()
    return figure


def photo_figure(config, render_size):
    """A real black-and-white photo (scikit-image's cameraman, never seen in training) colorized in full."""
    photo = skimage_data.camera()
    colorized = colorize_photo(load_generator(config.out), photo, render_size=render_size)
    figure, axes = image_grid(1, 2, cell_inches=3.6)
    gray = np.repeat(photo[..., None], 3, axis=-1)
    show_image(axes[0, 0], gray, title=f"black-and-white photo, {photo.shape[1]}x{photo.shape[0]}")
    show_image(axes[0, 1], colorized, title=f"colorized by the GAN (render size {render_size})")
    figure.suptitle(f"Full-resolution colorization\n({describe(config)})", fontsize=9)
    figure.tight_layout()
    return figure


def picture_markdown(picture, alt):
    """A markdown image whose source is the PNG file itself, as a data URI (renders on Colab and everywhere)."""
    data = base64.b64encode((DOCS / picture).read_bytes()).decode("ascii")
    return f"![{alt}](data:image/png;base64,{data})"


def embed_overview_picture(path, picture, alt):
    """Puts `docs/picture` into the notebook's picture cell, right after its Overview; True if the file changed.

    The picture cell holds nothing but the image. A `![...](../docs/...)` link left in the Overview cell (how the
    pictures were linked before) is removed.
    """
    notebook = nbformat.read(path, as_version=4)
    index = next(i for i, cell in enumerate(notebook.cells) if cell.source.startswith("## Overview"))
    overview = notebook.cells[index]
    overview.source = re.sub(r"\n*!\[[^\]]*\]\(\.\./docs/[^)]+\)\s*$", "", overview.source)
    following = notebook.cells[index + 1] if index + 1 < len(notebook.cells) else None
    if following is None or following.get("id") != PICTURE_CELL_ID:
        following = nbformat.v4.new_markdown_cell(id=PICTURE_CELL_ID)
        notebook.cells.insert(index + 1, following)
    following.source = picture_markdown(picture, alt)
    text = nbformat.writes(notebook) + "\n"
    if path.read_text() == text:
        return False
    path.write_text(text)
    return True


def embed_overview_pictures():
    """Embeds every notebook's Overview picture from docs/ (see the module docstring)."""
    for name, (picture, alt) in OVERVIEW_PICTURES.items():
        if embed_overview_picture(NOTEBOOKS / name, picture, alt):
            print(f"embedded docs/{picture} in notebooks/{name}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=12, help="epochs of the figure models (default 12)")
    parser.add_argument("--embed-only", action="store_true",
                        help="only embed the docs/ pictures in the notebooks again, without drawing them")
    args = parser.parse_args(argv)

    if not args.embed_only:
        save_png(lab_channels_figure(), "overview_lab_channels.png")
        configs = figure_configs(args.epochs)
        train_figure_models(configs)
        save_png(training_figure(configs["gan"]), "overview_training.png")
        save_png(comparison_figure(configs), "overview_comparison.png")
        save_png(photo_figure(configs["gan"], render_size=2 * configs["gan"].image_size), "overview_photo.png")
    embed_overview_pictures()


if __name__ == "__main__":
    main()
