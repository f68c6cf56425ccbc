"""The course's runs: one place that says what the notebooks train in each mode, and how long it takes.

The notebooks share two runs, the GAN and the L1-only U-Net baseline, in known folders under the course's runs
folder (`kcolor.course.runs_folder`: Google Drive on Colab). Notebook 02 trains them; notebooks 03 and 04 use
them, and if a student opens those first (or in a new Colab runtime without Drive), `find_or_train` says what it
trains, in which mode and for how long, and trains it with a progress bar instead of failing. Notebook 03 also
trains a judge, a classifier of color photos (`kcolor.evaluation.judge`), with `find_or_train_judge`.

The three modes (`kcolor.course.MODES`):

- **smoke** trains tiny models on the offline `sample` photos for a few steps, without XLA (for a handful of
  steps on a CPU, compiling costs more than it saves: 9 s instead of 34 s here);
- **cpu** trains a quarter-width `nazeri-cifar` on CIFAR-10 for 1,200 steps (`CPU_MODE_SETTINGS`):
  minutes on a 2-core CPU, enough for the GAN's colors to stand out from the U-Net's;
- **full** trains the paper's CIFAR-10 setup (`nazeri-cifar`, 32 px, with kcolor's recipe) for a Colab GPU.

The photo runs train the shipped photo colorizer's recipe at full width on Imagenette in cpu and full mode
alike: hours on a CPU, so `find_or_train` starts them without a GPU only when full mode was asked for.
"""

import dataclasses
from pathlib import Path

import numpy as np

from kcolor.course import MODES, choose_mode
from kcolor.training import TrainConfig, train

COURSE_DIR = Path("runs") / "course"
RUN_KINDS = ("gan", "l1", "photo-gan", "photo-l1")
"""The course's runs: the CIFAR-10 GAN and U-Net of notebooks 02-04, and the photo recipe at full width (the
shipped photo colorizer's recipe, `kcolor.pretrained`, on Imagenette from TFDS) that notebook 04 offers."""

CPU_MODE_SETTINGS = dict(
    width_multiplier=0.25, epochs=6, steps_per_epoch=200, l1_warmup_epochs=0, l1_weight=100.0, jit_compile="auto",
    validation_images=500,
)
"""What cpu mode changes in the CIFAR-10 runs ("gan", "l1") of full mode: a quarter of the width, 1,200 steps of 32
images in 6 epochs (each epoch's validation and sample grid cost seconds, so fewer, longer epochs keep notebook 02
under 15 minutes), the GAN from the first step with the paper's lambda, 500 validation images per epoch. Chosen by
measurement (docs/RESULTS.md, "The course's cpu mode"): after 1,200 steps the GAN is about twice as colorful as the
U-Net and its colors tell a color-only judge more, for two training seeds and two judges; after 600 steps that
held for one seed only. An L1 warm-up or a larger lambda left too few GAN steps to show a difference."""

CPU_MODE_MINUTES = {"gan": 8, "l1": 6}
"""Minutes each cpu-mode CIFAR-10 run takes on a 2-core CPU, rounded up: 7.8 and 5.9 min measured inside notebooks
02 and 03 on a 2-core AMD EPYC with AVX2 (no AVX-512), nothing else running (docs/RESULTS.md, "The course's cpu
mode")."""

T4_ESTIMATES = {"gan": "8-13 min", "l1": "7-11 min", "photo-gan": "18-30 min", "photo-l1": "16-26 min"}
"""Full-mode training time of each run on a Colab T4, estimated from FLOPs (docs/PERFORMANCE.md, "Colab T4
estimates"; photo-l1 from the same arithmetic without the GAN steps), not measured."""

CPU_FULL_RUN_TFLOP = {"gan": 1819, "l1": 1615, "photo-gan": 4433, "photo-l1": 3846}
"""Arithmetic of each full-mode run (docs/PERFORMANCE.md), for the warning before one starts on a CPU."""

CPU_GFLOPS = 170
"""Float32 GFLOP/s of kcolor's train step on two CPU cores at best (a 2-core AMD EPYC Zen 4, docs/PERFORMANCE.md;
an AVX2 CPU without AVX-512 is slower), for the warning above."""


def resolve_mode(mode=None, smoke=None):
    """The course mode (`kcolor.course.MODES`): `mode` if given, else the older `smoke` flag (True: smoke,
    False: full), else `kcolor.course.choose_mode()` (the `KCOLOR_MODE` and `KCOLOR_SMOKE` variables, then the
    machine: full with a GPU, cpu without)."""
    if mode is not None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}.")
        return mode
    if smoke is not None:
        return "smoke" if smoke else "full"
    return choose_mode(verbose=False)


def training_time(kind, mode, gpu=True):
    """How long the `kind` run of `mode` takes to train, in words, e.g. `"about 8 min on a 2-core CPU"`."""
    if mode == "smoke":
        return "under a minute"
    if mode == "cpu" and not kind.startswith("photo"):
        return f"about {CPU_MODE_MINUTES[kind]} min on a 2-core CPU"
    if not gpu:
        hours = CPU_FULL_RUN_TFLOP[kind] * 1e12 / (CPU_GFLOPS * 1e9) / 3600
        return f"an estimated {hours:.0f} hours or more on a 2-core CPU"
    return f"about {T4_ESTIMATES[kind]} on a Colab T4 (estimate)"


def course_config(kind="gan", smoke=None, course_dir=COURSE_DIR, *, mode=None):
    """The `TrainConfig` of one course run.

    Args:
        kind: `"gan"` or `"l1"` (the L1-only U-Net baseline) on CIFAR-10, or `"photo-gan"` / `"photo-l1"`,
            the photo recipe at full width on Imagenette (`imagenette/320px-v2` from TFDS, 128 px).
        smoke: Smoke mode (older flag; `mode` wins): True is `mode="smoke"`, False `mode="full"`.
        course_dir: Folder that holds the course's runs (`kcolor.course.runs_folder`).
        mode: `"smoke"`, `"cpu"` or `"full"`; default: from `smoke`, else `kcolor.course.choose_mode()`.

    Returns:
        A `TrainConfig` writing to `course_dir / kind`.

    Example:

    ```python
    config = course_config("gan", course_dir=COURSE_DIR, mode="cpu")   # quarter width, 400 steps
    ```
    """
    if kind not in RUN_KINDS:
        raise ValueError(f"kind must be one of {RUN_KINDS}, got {kind!r}.")
    mode = resolve_mode(mode, smoke)
    common = dict(out=str(Path(course_dir) / kind), l1_only=kind.endswith("l1"), seed=0)
    if kind.startswith("photo"):
        if mode == "smoke":  # the photo preset at its smallest size (its generator halves the image 6 times)
            return TrainConfig(
                dataset="sample", preset="photo-128", image_size=64, width_multiplier=0.0625, batch_size=8,
                epochs=2, steps_per_epoch=3, sample_count=4, jit_compile=False, **common,
            )  # fmt: skip
        return TrainConfig(dataset="imagenette/320px-v2", preset="photo-128", epochs=15, **common)
    if mode == "smoke":
        return TrainConfig(
            dataset="sample", image_size=32, width_multiplier=0.125, batch_size=16, epochs=2,
            steps_per_epoch=4, sample_count=6, jit_compile=False, **common,
        )  # fmt: skip
    if mode == "cpu":
        return TrainConfig(dataset="cifar10", preset="nazeri-cifar", **CPU_MODE_SETTINGS, **common)
    return TrainConfig(dataset="cifar10", preset="nazeri-cifar", epochs=15, **common)


JUDGE_FILE = "chroma_judge.keras"
"""The course judge's file in the course folder (a judge that sees only a*b*; see `judge_settings`)."""


def judge_settings(smoke=None, course_dir=COURSE_DIR, *, mode=None):
    """The dataset spec and `train_judge` options of the course's judge.

    The course's judge sees only the photos' a*b* channels (`view="chroma"`): at 32 px a classifier of the
    whole photo recognises CIFAR-10 mostly from lightness, so colors can move it by a few points only
    (docs/RESULTS.md, "The course's cpu mode"); a gray photo tells a chroma judge nothing, so its whole gap is
    color. Full mode: CIFAR-10's training split at 32 px, the course's data, 12 epochs; cpu mode: its first
    10,000 training images for 3 epochs. Smoke mode: 32-px tiles of the offline sample photos, one class folder
    per photo (written once under `course_dir`), trained for a few epochs. `smoke` and `mode` as in
    `course_config`.
    """
    mode = resolve_mode(mode, smoke)
    if mode == "full":
        return "cifar10", dict(image_size=32, epochs=12, width=16, view="chroma")
    if mode == "cpu":
        return "cifar10", dict(split="train[:10000]", image_size=32, epochs=3, width=16, view="chroma")
    folder = Path(course_dir) / "judge_photos"
    if not folder.is_dir():
        _write_sample_tiles(folder, tile=32)
    return f"folder:{folder}", dict(image_size=32, epochs=3, width=8, batch_size=16, view="chroma")


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


def find_or_train_judge(smoke=None, course_dir=COURSE_DIR, verbose=None, *, mode=None):
    """The course's judge (`kcolor.evaluation.judge.SemanticJudge`), trained first if it is missing.

    Args:
        smoke: Smoke mode (older flag; `mode` wins).
        course_dir: Folder that holds the course's runs.
        verbose: `fit` verbosity when the judge has to be trained; default: a progress bar, except in smoke mode.
        mode: `"smoke"`, `"cpu"` or `"full"`; default as in `course_config`.

    Returns:
        `(judge, dataset)`: the judge and the spec of the labelled data it was trained on (evaluate on its
        validation split).
    """
    from kcolor.evaluation.judge import load_judge, train_judge

    mode = resolve_mode(mode, smoke)
    dataset, options = judge_settings(course_dir=course_dir, mode=mode)
    path = Path(course_dir) / JUDGE_FILE
    if path.is_file():
        print(f"Using the judge in {path}.")
    else:
        print(f"No judge in {path} yet: training one in {mode} mode on {dataset} ({options['epochs']} epochs).")
        train_judge(dataset, path, verbose=int(mode != "smoke") if verbose is None else verbose, **options)
    return load_judge(path), dataset


def run_exists(config):
    """True when `config.out` holds a finished generator."""
    return (Path(config.out) / "generator.keras").is_file()


def find_or_train(kind="gan", smoke=None, course_dir=COURSE_DIR, verbose=None, *, mode=None, gpu=None):
    """Returns the run folder of a course run, training it first if it is missing.

    A missing run is trained with a message that says what it trains, in which mode and how long that takes,
    and with `resume=True`: a run cut off by a disconnect continues from its last checkpoint (on Colab the runs
    folder is on Google Drive, so it outlives the runtime). Without a GPU, a full-mode run starts only after a
    warning with its time on a CPU, and a photo run (hours on a CPU in cpu mode too) does not start in cpu mode.

    Args:
        kind: One of `RUN_KINDS`.
        smoke: Smoke mode (older flag; `mode` wins): True is `mode="smoke"`, False `mode="full"`.
        course_dir: Folder that holds the course's runs (`kcolor.course.runs_folder`).
        verbose: `fit` verbosity when a run has to be trained; default: a progress bar, except in smoke mode.
        mode: `"smoke"`, `"cpu"` or `"full"` (the notebooks pass `MODE`); default as in `course_config`.
        gpu: Whether an accelerator is present; default: asks the active Keras backend.

    Returns:
        `pathlib.Path` of the run folder (it holds `generator.keras`, `history.csv`, ...).

    Raises:
        RuntimeError: a photo run is missing in cpu mode on a machine without a GPU.

    Example:

    ```python
    gan_dir = find_or_train("gan", course_dir=COURSE_DIR, mode=MODE)
    ```
    """
    mode = resolve_mode(mode, smoke)
    config = course_config(kind, course_dir=course_dir, mode=mode)
    if run_exists(config):
        print(f"Using the {kind} run in {config.out}.")
        return Path(config.out)
    slow = mode == "full" or (mode == "cpu" and kind.startswith("photo"))  # hours without a GPU
    if gpu is None and slow:
        from kcolor.devices import has_gpu

        gpu = has_gpu()
    time = training_time(kind, mode, gpu=gpu is not False)
    if slow and not gpu:
        warning = (f"Warning: no GPU, and the {kind} run trains {config.epochs} epochs of {config.preset} at full "
                   f"width on {config.dataset}: {time}.")  # fmt: skip
        if mode == "cpu":
            raise RuntimeError(
                f"{warning} cpu mode does not start it. Choose a GPU runtime (on Colab: Runtime > Change runtime "
                'type > GPU), or set KCOLOR_MODE = "full" in the Setup cell to train it on this CPU anyway.'
            )
        print(f"{warning} It starts because full mode was chosen; stop it with the stop button.")
    resuming = (Path(config.out) / "checkpoint").is_dir()
    print(f"No {kind} run in {config.out} yet (notebook 02 trains it): "
          f"{'continuing from its last checkpoint' if resuming else 'training one now'}, in {mode} mode: "
          f"{config.epochs} epochs on {config.dataset}, {time}.")  # fmt: skip
    verbose = int(mode != "smoke") if verbose is None else verbose
    train(dataclasses.replace(config, verbose=verbose, resume=True))
    return Path(config.out)
