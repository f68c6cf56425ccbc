"""Training callbacks: per-epoch sample grids, atomic saving, resumable checkpoints and a non-finite guard.

Every file a callback writes is written atomically: to a temporary file in the same folder, then renamed
over the target (`os.replace`), so a run killed during a save leaves the previous file intact.
"""

import json
import math
import os
from pathlib import Path

import keras
import numpy as np
from PIL import Image

from kcolor.colorize import colorize


def atomic_write(path, write):
    """Calls `write(temporary_path)`, then renames the temporary file to `path`.

    The temporary file is in the same folder and keeps `path`'s name as its suffix (Keras checks suffixes
    such as `.keras` and `.weights.h5`). It is removed if `write` fails.
    """
    path = Path(path)
    temporary = path.with_name(f".tmp-{os.getpid()}-{path.name}")
    try:
        write(temporary)
        os.replace(temporary, path)
    finally:
        if temporary.exists():
            temporary.unlink()
    return path


def all_finite(logs):
    """True when every value in a Keras `logs` dict is a finite number."""
    return all(math.isfinite(float(value)) for value in (logs or {}).values())


def sample_grid(images, colorized, scale=4):
    """A uint8 image with one row per example: gray | prediction | truth (nearest-neighbour upscaled)."""
    gray = np.repeat(
        np.round(images.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)).astype(np.uint8)[..., None],
        3,
        axis=-1,
    )
    rows = [np.concatenate([g, c, t], axis=1) for g, c, t in zip(gray, colorized, images)]
    grid = np.concatenate(rows, axis=0)
    return np.kron(grid, np.ones((scale, scale, 1), np.uint8)) if scale > 1 else grid


class SampleGrid(keras.callbacks.Callback):
    """Writes `samples/epoch_NNN.png` (gray | prediction | truth) for fixed validation images each epoch.

    Args:
        images: uint8 RGB `(N, H, W, 3)`, kept fixed across epochs so progress is comparable.
        directory: Folder for the PNG files.
    """

    def __init__(self, images, directory):
        super().__init__()
        self.images = np.asarray(images)
        self.directory = Path(directory)

    def on_epoch_end(self, epoch, logs=None):
        self.directory.mkdir(parents=True, exist_ok=True)
        grid = sample_grid(self.images, colorize(self.model.generator, self.images))
        path = self.directory / f"epoch_{epoch + 1:03d}.png"
        atomic_write(path, lambda temporary: Image.fromarray(grid).save(temporary, format="PNG"))


class GeneratorSaver(keras.callbacks.Callback):
    """Saves the generator as a `.keras` file (for `kcolor colorize`) at the end of every epoch."""

    def __init__(self, path):
        super().__init__()
        self.path = Path(path)

    def on_epoch_end(self, epoch, logs=None):
        if all_finite(logs):  # never replace a good generator with a diverged one
            atomic_write(self.path, self.model.generator.save)


class TrainingCheckpoint(keras.callbacks.Callback):
    """Checkpoints the whole GAN (both networks and both optimizers) after every epoch, for `--resume`.

    The folder holds `gan.weights.h5` and `state.json` (`{"epoch": completed_epochs}`), each written
    atomically, weights first: a state file never points at weights that are not on disk.
    """

    WEIGHTS = "gan.weights.h5"
    STATE = "state.json"

    def __init__(self, directory):
        super().__init__()
        self.directory = Path(directory)

    def on_epoch_end(self, epoch, logs=None):
        if not all_finite(logs):  # keep the last good checkpoint
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        atomic_write(self.directory / self.WEIGHTS, self.model.save_weights)
        state = json.dumps({"epoch": epoch + 1})
        atomic_write(self.directory / self.STATE, lambda temporary: Path(temporary).write_text(state))

    @classmethod
    def restore(cls, directory, model):
        """Loads the last checkpoint in `directory` into `model`; returns the number of completed epochs.

        Returns 0 when there is no checkpoint. The model must be compiled (its optimizers built).
        """
        directory = Path(directory)
        state_path = directory / cls.STATE
        if not state_path.exists():
            return 0
        model.load_weights(directory / cls.WEIGHTS)
        return int(json.loads(state_path.read_text())["epoch"])


class NonFiniteGuard(keras.callbacks.Callback):
    """Stops training at the first NaN or infinite loss or metric, naming the step and the metric.

    Keras's `TerminateOnNaN` only looks at a `loss` entry, which a GAN does not log. The checkpoints of
    earlier epochs are left untouched, so the last good one stays loadable.
    """

    def __init__(self):
        super().__init__()
        self.epoch = 0
        self.message = None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        for name, value in (logs or {}).items():
            if not math.isfinite(float(value)):
                self.message = (
                    f"Training stopped: {name} became {value} at epoch {self.epoch + 1}, step {batch + 1}. "
                    "The checkpoint of the last completed epoch is kept. Try a lower learning rate, "
                    "or float32 instead of mixed precision."
                )
                print(self.message)
                self.model.stop_training = True
                return
