"""Training callbacks: per-epoch sample grids, atomic saving, resumable checkpoints and a non-finite guard.

Every file a callback writes is written atomically: to a temporary file in the same folder, flushed to disk,
then renamed over the target (`os.replace`), so a run killed during a save leaves the previous file intact.
A checkpoint is a folder (`checkpoint/step-NNNNNNNNN-XXXXXX/`) that is complete before it is renamed into
place, and `checkpoint/state.json`, replaced atomically afterwards, names the one to resume from: whatever
moment a run is killed at, `state.json` names a complete checkpoint. Temporary leftovers of killed runs start
with `.tmp-` and are removed by the next save.
"""

import dataclasses
import json
import math
import os
import secrets
import shutil
from pathlib import Path

import keras
import numpy as np
from PIL import Image

from kcolor.colorize import colorize
from kcolor.training_data import DataPosition

TEMPORARY_PREFIX = ".tmp-"


def _fsync(path, directory=False):
    """Flushes a file (or a folder's entries) to disk; silently skipped where the platform cannot."""
    try:
        descriptor = os.open(path, os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0))
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def atomic_write(path, write):
    """Calls `write(temporary_path)`, flushes the file to disk, then renames it to `path`.

    The temporary file is in the same folder and keeps `path`'s name as its suffix (Keras checks suffixes
    such as `.keras` and `.weights.h5`). It is removed if `write` fails or is interrupted.

    Args:
        path: The file to (re)place.
        write: Called with the temporary path; writes the whole file there.

    Returns:
        `path` as a `pathlib.Path`.
    """
    path = Path(path)
    temporary = path.with_name(f"{TEMPORARY_PREFIX}{os.getpid()}-{path.name}")
    try:
        write(temporary)
        _fsync(temporary)
        os.replace(temporary, path)
    finally:
        if temporary.exists():
            temporary.unlink()
    _fsync(path.parent, directory=True)
    return path


def create_folder(path, description):
    """Creates the folder `path` (and its parents) or raises `OSError` with a one-line message naming it.

    Args:
        path: The folder.
        description: What it is, for the message, e.g. `"output folder"`.
    """
    try:
        Path(path).mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OSError(error.errno, f"cannot create {description} {path}: {error.strerror or error}") from None


def remove_stale_temporaries(folder):
    """Deletes the `.tmp-*` files and folders that a killed run left in `folder` (not recursively)."""
    folder = Path(folder)
    if not folder.is_dir():
        return
    for entry in folder.iterdir():
        if entry.name.startswith(TEMPORARY_PREFIX):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)


def all_finite(logs):
    """True when every value in a Keras `logs` dict is a finite number."""
    return all(math.isfinite(float(value)) for value in (logs or {}).values())


def first_non_finite_weight(model):
    """The path of the first weight of `model` (batch-norm statistics included) holding NaN or Inf, or None."""
    for weight in model.weights:
        if not np.isfinite(keras.ops.convert_to_numpy(weight)).all():
            return weight.path
    return None


def weights_finite(model):
    """True when no weight of `model` (including batch-norm statistics) is NaN or infinite."""
    return first_non_finite_weight(model) is None


def _sync_jax_state(model):
    """On the JAX backend, writes the state of the running `fit` back into the model's variables."""
    sync = getattr(model, "jax_state_sync", None)
    if sync is not None:
        sync()


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
    """

    def __init__(self, path):
        super().__init__()
        self.path = Path(path)

    def on_epoch_end(self, epoch, logs=None):
        if not all_finite(logs) or not weights_finite(self.model.generator):
            return
        with self.model.averaged_generator() as generator:  # the trained weights, then their average
            if weights_finite(generator):
                atomic_write(self.path, generator.save)


class L1Warmup(keras.callbacks.Callback):
    """Trains the GAN's generator with L1 alone for the first `epochs` epochs, then plays the GAN game.

    Sets `ColorizationGAN.adversarial` at the start of every epoch from the epoch number alone, so a resumed run
    continues the schedule (the discriminator's weights come from the checkpoint either way).

    Args:
        epochs: Epochs of the L1-only warm-up.
    """

    def __init__(self, epochs):
        super().__init__()
        self.epochs = epochs

    def on_epoch_begin(self, epoch, logs=None):
        if not self.model.l1_only:
            self.model.adversarial = epoch >= self.epochs


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


@dataclasses.dataclass
class CheckpointState:
    """Where a checkpoint stands: what `TrainingCheckpoint.restore` returns.

    Attributes:
        epoch: Epochs completed.
        step: Steps of the next epoch already done (0 at an epoch boundary).
        global_step: Training steps done in all.
        data_position: `DataPosition` of the next training batch, or None (old checkpoints).
        metric_values: Values of the model's metric variables mid-epoch (to continue the epoch's running
            means), or None.
        path: The checkpoint folder.
    """

    epoch: int
    step: int
    global_step: int
    data_position: DataPosition
    metric_values: list
    path: Path

    def describe(self):
        """E.g. `epoch 2, step 40` (1-based epoch of the next step) or `the end of epoch 3`."""
        return f"epoch {self.epoch + 1}, step {self.step}" if self.step else f"the end of epoch {self.epoch}"


class TrainingCheckpoint(StepCounter):
    """Checkpoints the whole training state for `--resume`: at every epoch end and every `every_steps` steps.

    A checkpoint holds both networks, both optimizers, the random-number state of the dropout layers (Keras
    does not save it with the weights), the running means of the epoch's metrics, and the data position of
    the next batch, so a resumed run continues exactly where the checkpoint was taken. Only the newest
    checkpoint is kept. A checkpoint is skipped, keeping the previous one, when the losses are no longer
    finite; weights that are no longer finite (possible while the losses still are, e.g. in batch-norm
    statistics) also stop training, with `message` saying why.

    Args:
        directory: The `checkpoint/` folder.
        steps_per_epoch: Steps in a (full) epoch.
        every_steps: Also checkpoint after every this many steps within an epoch (0: at epoch ends only).
        position_of: `position_of(global_step)` gives the data position of a step (`TrainingStream`).
    """

    STATE = "state.json"
    WEIGHTS = "gan.weights.h5"
    TRAINING_STATE = "training_state.npz"
    FORMAT = 2

    def __init__(self, directory, steps_per_epoch, every_steps=0, position_of=None):
        super().__init__()
        self.directory = Path(directory)
        self.steps_per_epoch = int(steps_per_epoch)
        self.every_steps = int(every_steps or 0)
        self.position_of = position_of
        self.metric_values_to_restore = None
        self.last_saved = None
        self.message = None

    def on_epoch_begin(self, epoch, logs=None):
        super().on_epoch_begin(epoch, logs)
        if self.metric_values_to_restore is not None:  # after Keras reset them for the epoch
            for variable, value in zip(self.model.metrics_variables, self.metric_values_to_restore):
                variable.assign(value)
            self.metric_values_to_restore = None

    def on_train_batch_end(self, batch, logs=None):
        step = self.step_in_epoch(batch)
        if self.every_steps and step % self.every_steps == 0 and step < self.steps_per_epoch:
            self.save(self.epoch, step, logs, mid_epoch=True)

    def on_epoch_end(self, epoch, logs=None):
        self.save(epoch + 1, 0, logs)

    def save(self, epoch, step, logs=None, mid_epoch=False):
        """Writes a checkpoint of the state after `epoch` epochs and `step` more steps; returns its folder.

        Returns None (and keeps the previous checkpoint) when `logs` or the weights are not finite.
        """
        if not all_finite(logs):
            return None
        _sync_jax_state(self.model)
        broken = first_non_finite_weight(self.model)
        if broken is not None:
            where = f"epoch {epoch + 1}, step {step}" if step else f"the end of epoch {epoch}"
            self.message = (
                f"Training stopped: the weight {broken} is no longer finite at {where} (the losses still were). "
                f"The last checkpoint with finite weights is kept in {self.directory}. Try a lower "
                "--learning-rate, or float32 instead of mixed precision, then --resume."
            )
            print(self.message)
            self.model.stop_training = True
            return None
        global_step = epoch * self.steps_per_epoch + step
        position = self.position_of(global_step) if self.position_of else None
        name = f"step-{global_step:09d}-{secrets.token_hex(3)}"
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._write_folder(name, mid_epoch)
            state = {
                "format": self.FORMAT,
                "checkpoint": name,
                "epoch": epoch,
                "step": step,
                "global_step": global_step,
                "data_position": position.to_json() if position else None,
                "steps_per_epoch": self.steps_per_epoch,
            }
            atomic_write(self.directory / self.STATE, lambda temporary: Path(temporary).write_text(json.dumps(state)))
        except OSError as error:
            raise OSError(
                error.errno, f"cannot save the checkpoint in {self.directory}: {error.strerror or error}"
            ) from error
        self._remove_all_but(name)
        self.last_saved = self.directory / name
        return self.last_saved

    def _write_folder(self, name, mid_epoch):
        temporary = self.directory / f"{TEMPORARY_PREFIX}{os.getpid()}-{name}"
        temporary.mkdir()
        try:
            self.model.save_weights(temporary / self.WEIGHTS)
            arrays = _numbered("seed", seed_generator_states(self.model))
            if mid_epoch:
                arrays.update(_numbered("metric", self.model.metrics_variables))
            np.savez(temporary / self.TRAINING_STATE, **arrays)
            for file in temporary.iterdir():
                _fsync(file)
            _fsync(temporary, directory=True)
            os.replace(temporary, self.directory / name)
        except BaseException:
            shutil.rmtree(temporary, ignore_errors=True)
            raise
        _fsync(self.directory, directory=True)

    def _remove_all_but(self, name):
        remove_stale_temporaries(self.directory)
        for entry in self.directory.iterdir():
            if entry.is_dir() and entry.name.startswith("step-") and entry.name != name:
                shutil.rmtree(entry, ignore_errors=True)
        (self.directory / self.WEIGHTS).unlink(missing_ok=True)  # a checkpoint of the first format

    @classmethod
    def read_state(cls, directory):
        """The parsed `state.json` of `directory`, or None when there is no checkpoint."""
        state_path = Path(directory) / cls.STATE
        if not state_path.exists():
            return None
        try:
            return json.loads(state_path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise ValueError(f"{state_path} is damaged ({error}); train into a new --out folder.") from None

    @classmethod
    def restore(cls, directory, model):
        """Loads the checkpoint of `directory` into `model`.

        The model must be compiled (its optimizers built). Temporary leftovers of a killed save are removed.

        Returns:
            A `CheckpointState`, or None when `directory` holds no checkpoint.

        Raises:
            ValueError: the checkpoint is incomplete, damaged, or does not fit the model.
        """
        directory = Path(directory)
        state = cls.read_state(directory)
        if state is None:
            return None
        remove_stale_temporaries(directory)
        folder = directory / state["checkpoint"] if "checkpoint" in state else directory
        weights = folder / cls.WEIGHTS
        if not weights.is_file():
            raise ValueError(f"the checkpoint in {directory} is incomplete: {weights} is missing.")
        try:
            model.load_weights(weights)
        except (ValueError, OSError, KeyError) as error:
            raise ValueError(
                f"cannot load the checkpoint {weights} into this model ({str(error).splitlines()[0]}); "
                "resume with the options the run was trained with (see its config.json)."
            ) from None
        metric_values = None
        extra_path = folder / cls.TRAINING_STATE
        if extra_path.is_file():
            with np.load(extra_path) as arrays:
                seeds, metrics = _read_numbered(arrays, "seed"), _read_numbered(arrays, "metric")
            states = seed_generator_states(model)
            if len(seeds) != len(states):
                raise ValueError(f"the checkpoint {folder} has {len(seeds)} random states, the model {len(states)}.")
            for variable, value in zip(states, seeds):
                variable.assign(value)
            metric_values = metrics or None
        epoch, step = int(state["epoch"]), int(state.get("step", 0))
        position = state.get("data_position")
        return CheckpointState(
            epoch=epoch,
            step=step,
            global_step=int(state.get("global_step", epoch * int(state.get("steps_per_epoch") or 0))),
            data_position=DataPosition.from_json(position) if position else None,
            metric_values=metric_values,
            path=folder,
        )


def seed_generator_states(model):
    """The state variables of `model`'s random seed generators (dropout layers), in a fixed order.

    Keras leaves them out of `save_weights`; without them a resumed run would draw other dropout masks.
    """
    weights = {id(weight) for weight in model.weights}
    return [variable for variable in model.non_trainable_variables if id(variable) not in weights]


def _numbered(prefix, variables):
    """`{"PREFIX_0": value, ...}`: the values of `variables`, in order, for `np.savez`."""
    return {f"{prefix}_{index}": keras.ops.convert_to_numpy(variable) for index, variable in enumerate(variables)}


def _read_numbered(arrays, prefix):
    """The arrays that `_numbered(prefix, ...)` wrote, in order."""
    count = sum(name.startswith(f"{prefix}_") for name in arrays.files)
    return [arrays[f"{prefix}_{index}"] for index in range(count)]


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
