"""Keras callbacks of a training run: sample grids, the saved generator, a non-finite guard and the progress bar.

Every file a callback writes is written atomically (`kcolor.run_files.atomic_write`), so a run killed during a
save leaves the previous file intact. Nothing is saved while the losses or the weights are NaN or infinite, so
the last good files stay loadable. The checkpoint callback, which `--resume` continues from, is in
`kcolor.checkpoint`.
"""

import math
import shutil
from pathlib import Path

import keras
import numpy as np
from PIL import Image

from kcolor.colorize import colorize
from kcolor.run_files import atomic_write


def all_finite(logs):
    """Whether every value in a Keras `logs` dict is a finite number.

    Args:
        logs: The `logs` of a callback (None counts as finite).

    Returns:
        True when no value is NaN or infinite.
    """
    return all(math.isfinite(float(value)) for value in (logs or {}).values())


def first_non_finite_weight(model):
    """The first weight of `model` (batch-norm statistics included) that holds NaN or Inf.

    Args:
        model: A Keras model.

    Returns:
        The weight's `path`, or None when every weight is finite.
    """
    for weight in model.weights:
        if not np.isfinite(keras.ops.convert_to_numpy(weight)).all():
            return weight.path
    return None


def weights_finite(model):
    """Whether every weight of `model` (including batch-norm statistics) is finite.

    Args:
        model: A Keras model.

    Returns:
        True when no weight is NaN or infinite.
    """
    return first_non_finite_weight(model) is None


def sample_grid(images, colorized, scale=4):
    """One picture of a batch of colorizations: a row per example, gray | prediction | truth.

    Args:
        images: The true uint8 RGB images, `(N, H, W, 3)`.
        colorized: The model's uint8 RGB colorizations of them, the same shape.
        scale: Nearest-neighbour upscaling factor, so that small crops are visible.

    Returns:
        A uint8 RGB array of shape `(N * H * scale, 3 * W * scale, 3)`.
    """
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
        if not all_finite(logs):  # a diverged generator draws nothing worth keeping
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        with self.model.averaged_generator() as generator:
            grid = sample_grid(self.images, colorize(generator, self.images))
        path = self.directory / f"epoch_{epoch + 1:03d}.png"
        atomic_write(path, lambda temporary: Image.fromarray(grid).save(temporary, format="PNG"))


class GeneratorSaver(keras.callbacks.Callback):
    """Saves the generator as a `.keras` file (for `kcolor colorize`) at the end of every epoch.

    With a moving average of the generator's weights (`ColorizationGAN.averaged_generator`), the file holds
    the averaged weights. A generator with non-finite losses, weights or averaged weights never replaces the file
    of a good one.

    Args:
        path: The `.keras` file to (re)place.
        keep_dir: Optional folder that also keeps every epoch's generator, as `epoch_NNN.keras` (1-based, as the
            sample grids), so that a run's epochs can be compared afterwards: the GAN game's results swing from
            epoch to epoch, and where to stop it is a choice made on held-out photos (docs/RESULTS.md).
    """

    def __init__(self, path, keep_dir=None):
        super().__init__()
        self.path = Path(path)
        self.keep_dir = None if keep_dir is None else Path(keep_dir)

    def on_epoch_end(self, epoch, logs=None):
        if not all_finite(logs) or not weights_finite(self.model.generator):
            return
        with self.model.averaged_generator() as generator:  # the trained weights, then their average
            if weights_finite(generator):
                atomic_write(self.path, generator.save)
                if self.keep_dir is not None:  # a copy of the file just written, not a second serialisation
                    self.keep_dir.mkdir(parents=True, exist_ok=True)
                    kept = self.keep_dir / f"epoch_{epoch + 1:03d}.keras"
                    atomic_write(kept, lambda temporary: shutil.copyfile(self.path, temporary))


class RunProgressBar(keras.callbacks.ProgbarLogger):
    """Keras's progress bar, counting the epochs of a run that several `fit` calls train: `Epoch 1/6`.

    `kcolor.training.train` runs the L1 warm-up, the GAN game and a resumed run's interrupted epoch as separate
    `fit` calls; Keras's own bar counts up to each call's `epochs` argument (`Epoch 1/4` ... `Epoch 4/4` in a
    4-epoch warm-up, then `Epoch 5/6`).

    Args:
        epochs: Epochs of the whole run.

    Example:

    ```python
    progress = RunProgressBar(epochs=6)
    model.fit(data, epochs=4, callbacks=[progress])  # Epoch 1/6 ... Epoch 4/6
    model.fit(data, epochs=6, initial_epoch=4, callbacks=[progress])
    ```
    """

    def __init__(self, epochs):
        super().__init__()
        self.run_epochs = int(epochs)

    def set_params(self, params):
        super().set_params({**params, "epochs": self.run_epochs})


class StepCounter(keras.callbacks.Callback):
    """Base of the callbacks that name training steps: knows the epoch and the step within it.

    Attributes:
        epoch: The current epoch (0-based).
        step_offset: Steps of the current epoch done before this `fit` started (a resumed run first
            finishes its interrupted epoch with a shorter `fit`); `kcolor.training` sets it.
    """

    def __init__(self):
        super().__init__()
        self.epoch = 0
        self.step_offset = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def step_in_epoch(self, batch):
        """1-based step within the epoch after Keras's batch `batch` of this `fit`."""
        return self.step_offset + batch + 1


class NonFiniteGuard(StepCounter):
    """Stops training at the first NaN or infinite loss or metric, naming the step and the metric.

    Keras's `TerminateOnNaN` only looks at a `loss` entry, which a GAN does not log. Checkpoints and the
    saved generator are only written while everything is finite, so the last good ones stay loadable.

    Args:
        checkpoint_directory: Named in the message, if given.
    """

    def __init__(self, checkpoint_directory=None):
        super().__init__()
        self.checkpoint_directory = checkpoint_directory
        self.message = None

    def on_train_batch_end(self, batch, logs=None):
        for name, value in (logs or {}).items():
            if not math.isfinite(float(value)):
                kept = f" in {self.checkpoint_directory}" if self.checkpoint_directory else ""
                self.message = (
                    f"Training stopped: {name} became {float(value)} at epoch {self.epoch + 1}, step "
                    f"{self.step_in_epoch(batch)}. The last checkpoint with finite weights is kept{kept}. "
                    "Try a lower --learning-rate, or float32 instead of mixed precision, then --resume."
                )
                print(self.message)
                self.model.stop_training = True
                return
