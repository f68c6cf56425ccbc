"""The course's runs: one place that says what the notebooks train, in smoke mode and in full mode.

The notebooks share two runs, the GAN and the L1-only U-Net baseline, in known folders under `runs/course/`.
Notebook 02 trains them; notebooks 03 and 04 use them, and if a student opens those first,
`find_or_train` trains a quick pair with a clear message instead of failing. Notebook 03 also trains a judge,
a classifier of color photos (`kcolor.evaluation.judge`), with `find_or_train_judge`: on CIFAR-10 in full mode,
and offline in smoke mode on tiles of the sample photos, one class per photo.

Smoke mode (`kcolor.smoke`, on in CI) trains tiny models on the offline `sample` photos for a few steps; full
mode trains the paper's CIFAR-10 setup (`nazeri-cifar`, 32 px, with kcolor's recipe) for a Colab GPU session, and
the photo runs train the shipped photo colorizer's recipe at full width on Imagenette. Smoke runs
skip XLA: for a handful of steps on a CPU, compiling costs more than it saves (9 s instead of 34 s here).
"""

import dataclasses
from pathlib import Path

import numpy as np

from kcolor.smoke import is_smoke_mode
from kcolor.training import TrainConfig, train

COURSE_DIR = Path("runs") / "course"
RUN_KINDS = ("gan", "l1", "photo-gan", "photo-l1")
"""The course's runs: the CIFAR-10 GAN and U-Net of notebooks 02-04, and the photo recipe at full width (the
shipped photo colorizer's recipe, `kcolor.pretrained`, on Imagenette from TFDS) that notebook 04 offers."""


def course_config(kind="gan", smoke=None, course_dir=COURSE_DIR):
    """The `TrainConfig` of one course run.

    Args:
        kind: `"gan"` or `"l1"` (the L1-only U-Net baseline) on CIFAR-10, or `"photo-gan"` / `"photo-l1"`,
            the photo recipe at full width on Imagenette (`imagenette/320px-v2` from TFDS, 128 px).
        smoke: Smoke mode; default: `kcolor.smoke.is_smoke_mode()`.
        course_dir: Folder that holds the course's runs.

    Returns:
        A `TrainConfig` writing to `course_dir / kind`.
    """
    if kind not in RUN_KINDS:
        raise ValueError(f"kind must be one of {RUN_KINDS}, got {kind!r}.")
    smoke = is_smoke_mode() if smoke is None else smoke
    common = dict(out=str(Path(course_dir) / kind), l1_only=kind.endswith("l1"), seed=0)
    if kind.startswith("photo"):
        if smoke:  # the photo preset at its smallest size (its generator halves the image 6 times)
            return TrainConfig(
                dataset="sample", preset="photo-128", image_size=64, width_multiplier=0.0625, batch_size=8,
                epochs=2, steps_per_epoch=3, sample_count=4, jit_compile=False, **common,
            )  # fmt: skip
        return TrainConfig(dataset="imagenette/320px-v2", preset="photo-128", epochs=15, **common)
    if smoke:
        return TrainConfig(
            dataset="sample", image_size=32, width_multiplier=0.125, batch_size=16, epochs=2,
            steps_per_epoch=4, sample_count=6, jit_compile=False, **common,
        )  # fmt: skip
    return TrainConfig(dataset="cifar10", preset="nazeri-cifar", epochs=15, **common)


JUDGE_FILE = "judge.keras"


def judge_settings(smoke=None, course_dir=COURSE_DIR):
    """The dataset spec and `train_judge` options of the course's judge.

    Full mode: CIFAR-10's training split at 32 px, the course's data. Smoke mode: 32-px tiles of the offline
    sample photos, one class folder per photo (written once under `course_dir`), trained for a few epochs.
    """
    smoke = is_smoke_mode() if smoke is None else smoke
    if not smoke:
        return "cifar10", dict(image_size=32, epochs=12, width=16)
    folder = Path(course_dir) / "judge_photos"
    if not folder.is_dir():
        _write_sample_tiles(folder, tile=32)
    return f"folder:{folder}", dict(image_size=32, epochs=3, width=8, batch_size=16)


def _write_sample_tiles(folder, tile):
    """Cuts each sample photo (shorter side 4 tiles) into `tile`-pixel squares in a class folder of its name."""
    from PIL import Image

    from kcolor.data.preprocessing import resize_shorter_side
    from kcolor.data.sample import sample_photos

    for photo in sample_photos():
        pixels = resize_shorter_side(np.asarray(photo.pixels), 4 * tile)
        (folder / photo.name).mkdir(parents=True, exist_ok=True)
        for top in range(0, pixels.shape[0] - tile + 1, tile):
            for left in range(0, pixels.shape[1] - tile + 1, tile):
                square = np.ascontiguousarray(pixels[top : top + tile, left : left + tile])
                Image.fromarray(square).save(folder / photo.name / f"tile_{top:04d}_{left:04d}.png")


def find_or_train_judge(smoke=None, course_dir=COURSE_DIR, verbose=0):
    """The course's judge (`kcolor.evaluation.judge.SemanticJudge`), trained first if it is missing.

    Returns:
        `(judge, dataset)`: the judge and the spec of the labelled data it was trained on (evaluate on its
        validation split).
    """
    from kcolor.evaluation.judge import load_judge, train_judge

    dataset, options = judge_settings(smoke, course_dir)
    path = Path(course_dir) / JUDGE_FILE
    if path.is_file():
        print(f"Using the judge in {path}.")
    else:
        print(f"No judge in {path} yet: training one on {dataset} ({options['epochs']} epochs).")
        train_judge(dataset, path, verbose=verbose, **options)
    return load_judge(path), dataset


def run_exists(config):
    """True when `config.out` holds a finished generator."""
    return (Path(config.out) / "generator.keras").is_file()


def find_or_train(kind="gan", smoke=None, course_dir=COURSE_DIR, verbose=0):
    """Returns the run folder of a course run, training it first if it is missing.

    Args:
        kind: `"gan"` or `"l1"`.
        smoke: Smoke mode; default: `kcolor.smoke.is_smoke_mode()`.
        course_dir: Folder that holds the course's runs.
        verbose: `fit` verbosity when a run has to be trained.

    Returns:
        `pathlib.Path` of the run folder (it holds `generator.keras`, `history.csv`, ...).
    """
    config = course_config(kind, smoke, course_dir)
    if run_exists(config):
        print(f"Using the {kind} run in {config.out}.")
    else:
        print(f"No {kind} run in {config.out} yet (notebook 02 trains it): training one now, "
              f"{config.epochs} epochs on {config.dataset}.")
        train(dataclasses.replace(config, verbose=verbose, resume=True))
    return Path(config.out)
