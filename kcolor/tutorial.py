"""The course's runs: one place that says what the notebooks train, in smoke mode and in full mode.

The notebooks share two runs, the GAN and the L1-only U-Net baseline, in known folders under `runs/course/`.
Notebook 02 trains them; notebooks 03 and 04 use them, and if a student opens those first,
`find_or_train` trains a quick pair with a clear message instead of failing.

Smoke mode (`kcolor.smoke`, on in CI) trains tiny models on the offline `sample` photos for a few steps; full
mode trains the paper's CIFAR-10 setup (`nazeri-cifar`, 32 px, with kcolor's recipe) for a Colab GPU session. Smoke runs
skip XLA: for a handful of steps on a CPU, compiling costs more than it saves (9 s instead of 34 s here).
"""

import dataclasses
from pathlib import Path

from kcolor.smoke import is_smoke_mode
from kcolor.training import TrainConfig, train

COURSE_DIR = Path("runs") / "course"
RUN_KINDS = ("gan", "l1")


def course_config(kind="gan", smoke=None, course_dir=COURSE_DIR):
    """The `TrainConfig` of one course run.

    Args:
        kind: `"gan"` or `"l1"` (the L1-only U-Net baseline).
        smoke: Smoke mode; default: `kcolor.smoke.is_smoke_mode()`.
        course_dir: Folder that holds the course's runs.

    Returns:
        A `TrainConfig` writing to `course_dir / kind`.
    """
    if kind not in RUN_KINDS:
        raise ValueError(f"kind must be one of {RUN_KINDS}, got {kind!r}.")
    smoke = is_smoke_mode() if smoke is None else smoke
    common = dict(out=str(Path(course_dir) / kind), l1_only=kind == "l1", seed=0)
    if smoke:
        return TrainConfig(
            dataset="sample", image_size=32, width_multiplier=0.125, batch_size=16, epochs=2,
            steps_per_epoch=4, sample_count=6, jit_compile=False, **common,
        )  # fmt: skip
    return TrainConfig(dataset="cifar10", preset="nazeri-cifar", epochs=15, **common)


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
