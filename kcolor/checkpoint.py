"""Resumable checkpoints: the whole training state, saved atomically, restored exactly (`--resume`).

A checkpoint is a folder (`checkpoint/step-NNNNNNNNN-XXXXXX/`) that is complete before it is renamed into
place, and `checkpoint/state.json`, replaced atomically afterwards, names the one to resume from: whatever
moment a run is killed at, `state.json` names a complete checkpoint. Temporary leftovers of killed runs start
with `.tmp-` and are removed by the next save (`kcolor.run_files`).
"""

import dataclasses
import json
import os
import secrets
import shutil
from pathlib import Path

import keras
import numpy as np

from kcolor.callbacks import StepCounter, all_finite, first_non_finite_weight
from kcolor.run_files import TEMPORARY_PREFIX, fsync, remove_stale_temporaries, write_json
from kcolor.training_data import DataPosition


def _sync_jax_state(model):
    """On the JAX backend, writes the state of the running `fit` back into the model's variables."""
    sync = getattr(model, "jax_state_sync", None)
    if sync is not None:
        sync()


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
        """Writes a checkpoint of the state after `epoch` epochs and `step` more steps.

        Args:
            epoch: Epochs completed.
            step: Steps of the next epoch already done (0 at an epoch end).
            logs: The callback's `logs`; nothing is saved unless they are all finite.
            mid_epoch: Also save the running means of the epoch's metrics.

        Returns:
            The new checkpoint folder, or None (the previous checkpoint is kept) when `logs` or the weights are
            not finite.

        Raises:
            OSError: the checkpoint cannot be written (one line naming the folder).
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
            write_json(self.directory / self.STATE, state)
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
                fsync(file)
            fsync(temporary, directory=True)
            os.replace(temporary, self.directory / name)
        except BaseException:
            shutil.rmtree(temporary, ignore_errors=True)
            raise
        fsync(self.directory, directory=True)

    def _remove_all_but(self, name):
        remove_stale_temporaries(self.directory)
        for entry in self.directory.iterdir():
            if entry.is_dir() and entry.name.startswith("step-") and entry.name != name:
                shutil.rmtree(entry, ignore_errors=True)
        (self.directory / self.WEIGHTS).unlink(missing_ok=True)  # a checkpoint of the first format

    @classmethod
    def read_state(cls, directory):
        """The parsed `state.json` of a `checkpoint/` folder.

        Args:
            directory: The `checkpoint/` folder.

        Returns:
            A dict, or None when there is no checkpoint.

        Raises:
            ValueError: `state.json` is damaged.
        """
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

        Args:
            directory: The `checkpoint/` folder.
            model: The `ColorizationGAN` the checkpoint was taken of (same shapes).

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

    Args:
        model: A Keras model.

    Returns:
        A list of variables.
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

