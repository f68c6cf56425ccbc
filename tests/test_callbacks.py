"""Tests of `kcolor.callbacks`, `kcolor.checkpoint` and `kcolor.run_files`: atomic writes, checkpoints that survive
interrupted saves and restore the whole training state, and the guards against non-finite losses and weights
(in-process, a tiny GAN, no training)."""

import errno
import json
import math
import os

import keras
import numpy as np
import pytest

from kcolor.callbacks import GeneratorSaver, NonFiniteGuard, weights_finite
from kcolor.checkpoint import TrainingCheckpoint, seed_generator_states
from kcolor.run_files import atomic_write
from kcolor.training import TrainConfig, build_gan
from kcolor.training_data import DataPosition

FINITE_LOGS = {"g_loss": 3.5, "d_loss": 1.25}


def tiny_gan():
    return build_gan(TrainConfig(width_multiplier=0.125, image_size=16, jit_compile=False).resolved())


def scramble(model, seed):
    """Gives every variable of the model and its optimizers (and the dropout seeds) seed-dependent values."""
    rng = np.random.default_rng(seed)
    variables = [*model.variables, *model.optimizer.variables]
    for variable in variables:
        shape, dtype = tuple(variable.shape), keras.backend.standardize_dtype(variable.dtype)
        if "int" in dtype:
            variable.assign(rng.integers(0, 1000, shape).astype(dtype))
        else:
            variable.assign(rng.normal(size=shape).astype(dtype))
    return [keras.ops.convert_to_numpy(variable).copy() for variable in variables]


def state_of(model):
    return [keras.ops.convert_to_numpy(variable) for variable in (*model.variables, *model.optimizer.variables)]


def checkpoint_for(model, directory, steps_per_epoch=10):
    checkpoint = TrainingCheckpoint(directory, steps_per_epoch, every_steps=2,
                                    position_of=lambda step: DataPosition(0, step))
    checkpoint.set_model(model)
    return checkpoint


def assert_same(values, others):
    assert len(values) == len(others)
    for value, other in zip(values, others):
        np.testing.assert_array_equal(value, other)


@pytest.fixture(scope="module")
def gan():
    return tiny_gan()


def test_atomic_write_replaces_whole_files_only(tmp_path):
    path = tmp_path / "notes.txt"
    atomic_write(path, lambda temporary: temporary.write_text("first"))

    def torn_write(temporary):
        temporary.write_text("half of the sec")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        atomic_write(path, torn_write)
    assert path.read_text() == "first"
    assert os.listdir(tmp_path) == ["notes.txt"]  # no temporary file left behind


def test_checkpoint_restores_weights_optimizers_dropout_seeds_and_position(gan, tmp_path):
    assert len(seed_generator_states(gan)) == 2  # the two dropout layers of nazeri-cifar's decoder
    saved = scramble(gan, seed=1)
    checkpoint = checkpoint_for(gan, tmp_path)
    checkpoint.on_epoch_begin(1)
    checkpoint.on_train_batch_end(3, FINITE_LOGS)  # step 4 of epoch 2: a mid-epoch checkpoint
    other = tiny_gan()
    state = TrainingCheckpoint.restore(tmp_path, other)
    assert (state.epoch, state.step, state.global_step, state.data_position) == (1, 4, 14, DataPosition(0, 14))
    assert state.describe() == "epoch 2, step 4"
    assert len(state.metric_values) == len(gan.metrics_variables)
    assert_same(state_of(other), saved)


def test_an_interrupted_save_keeps_the_previous_checkpoint(gan, tmp_path, monkeypatch):
    checkpoint = checkpoint_for(gan, tmp_path)
    saved = scramble(gan, seed=2)
    first = checkpoint.save(1, 0, FINITE_LOGS)
    scramble(gan, seed=3)

    def killed_while_writing(path):  # writes part of a file, then the process "dies"
        with open(path, "wb") as file:
            file.write(b"\x89HDF\r\n partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(gan, "save_weights", killed_while_writing)
    with pytest.raises(KeyboardInterrupt):
        checkpoint.save(1, 2, FINITE_LOGS)
    # What a SIGKILL (no clean-up at all) leaves: a half-written folder and a half-written state file.
    (tmp_path / ".tmp-4242-step-000000012-abcdef").mkdir()
    (tmp_path / ".tmp-4242-step-000000012-abcdef" / "gan.weights.h5").write_bytes(b"\x89HDF garbage")
    (tmp_path / ".tmp-4242-state.json").write_text('{"epoch": 1, "chec')
    other = tiny_gan()
    state = TrainingCheckpoint.restore(tmp_path, other)
    assert state.path == first and (state.epoch, state.step) == (1, 0)
    assert_same(state_of(other), saved)
    assert sorted(entry.name for entry in tmp_path.iterdir()) == sorted([first.name, "state.json"])


def test_only_finite_states_are_checkpointed(gan, tmp_path):
    checkpoint = checkpoint_for(gan, tmp_path)
    scramble(gan, seed=4)
    good = checkpoint.save(1, 0, FINITE_LOGS)
    assert checkpoint.save(1, 2, {"g_loss": math.nan}) is None
    variance = gan.generator.get_layer("decoder_0_norm").moving_variance  # the losses stay finite
    variance.assign(np.full(variance.shape, np.inf, np.float32))
    assert not weights_finite(gan)
    gan.stop_training = False
    assert checkpoint.save(1, 4, FINITE_LOGS) is None
    assert gan.stop_training and checkpoint.message.startswith(
        "Training stopped: the weight decoder_0_norm/moving_variance is no longer finite at epoch 2, step 4"
    )
    assert json.loads((tmp_path / "state.json").read_text())["checkpoint"] == good.name
    assert [entry.name for entry in tmp_path.iterdir() if entry.is_dir()] == [good.name]


def test_generator_saver_never_replaces_a_good_generator_with_a_diverged_one(tmp_path):
    model = tiny_gan()
    saver = GeneratorSaver(tmp_path / "generator.keras")
    saver.set_model(model)
    saver.on_epoch_end(0, FINITE_LOGS)
    good = (tmp_path / "generator.keras").read_bytes()
    saver.on_epoch_end(1, {"g_loss": math.inf})
    kernel = model.generator.get_layer("encoder_0_conv").kernel
    kernel.assign(np.full(kernel.shape, np.nan, np.float32))
    saver.on_epoch_end(2, FINITE_LOGS)
    assert (tmp_path / "generator.keras").read_bytes() == good
    kernel.assign(np.zeros(kernel.shape, np.float32))
    average = model.generator_average[0]  # the recipe saves the moving average of the weights
    average.assign(np.full(average.shape, np.nan, np.float32))
    saver.on_epoch_end(3, FINITE_LOGS)
    assert (tmp_path / "generator.keras").read_bytes() == good


def test_generator_saver_keeps_every_epochs_averaged_generator_when_asked(tmp_path):
    model = tiny_gan()
    saver = GeneratorSaver(tmp_path / "generator.keras", keep_dir=tmp_path / "generators")
    saver.set_model(model)
    kernel = model.generator.get_layer("encoder_0_conv").kernel
    for epoch in range(2):
        model.generator_average[0].assign(np.full(kernel.shape, epoch + 1.0, np.float32))
        saver.on_epoch_end(epoch, FINITE_LOGS)
    assert sorted(path.name for path in (tmp_path / "generators").iterdir()) == ["epoch_001.keras", "epoch_002.keras"]
    for epoch in (1, 2):
        kept = keras.saving.load_model(tmp_path / "generators" / f"epoch_{epoch:03d}.keras", compile=False)
        kept_kernel = keras.ops.convert_to_numpy(kept.get_layer("encoder_0_conv").kernel)
        np.testing.assert_array_equal(kept_kernel, epoch)  # the averaged weights, as in generator.keras
    latest = keras.saving.load_model(tmp_path / "generator.keras", compile=False)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(latest.get_layer("encoder_0_conv").kernel), 2)


def test_non_finite_guard_names_the_metric_epoch_and_step(gan, capsys):
    guard = NonFiniteGuard("runs/x/checkpoint")
    guard.set_model(gan)
    gan.stop_training = False
    guard.on_epoch_begin(2)
    guard.on_train_batch_end(0, FINITE_LOGS)
    assert guard.message is None and not gan.stop_training
    guard.step_offset = 3  # a resumed run finishing epoch 3 from its step 3
    guard.on_train_batch_end(1, {"d_loss": 0.5, "g_l1": math.nan})
    assert gan.stop_training
    assert guard.message.startswith("Training stopped: g_l1 became nan at epoch 3, step 5.")
    assert "runs/x/checkpoint" in guard.message and guard.message in capsys.readouterr().out


def test_a_full_disk_during_a_checkpoint_is_one_clear_error_and_keeps_the_previous(gan, tmp_path, monkeypatch):
    checkpoint = checkpoint_for(gan, tmp_path)
    saved = scramble(gan, seed=5)
    first = checkpoint.save(1, 0, FINITE_LOGS)

    def disk_full(path):
        with open(path, "wb") as file:
            file.write(b"\x89HDF")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(gan, "save_weights", disk_full)
    with pytest.raises(OSError) as error:
        checkpoint.save(2, 0, FINITE_LOGS)
    assert error.value.errno == errno.ENOSPC
    assert error.value.strerror == f"cannot save the checkpoint in {tmp_path}: No space left on device"
    assert sorted(entry.name for entry in tmp_path.iterdir()) == sorted([first.name, "state.json"])
    other = tiny_gan()
    assert TrainingCheckpoint.restore(tmp_path, other).epoch == 1
    assert_same(state_of(other), saved)
