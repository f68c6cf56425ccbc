"""Tests of how `kcolor.training.train` splits a run into `fit` calls: one for the L1 warm-up and one for the GAN
game, each tracing the train step once, with one continuous history, and resuming in either phase to the same
bits (in-process on TensorFlow, and `train` on JAX in a TensorFlow-free subprocess)."""

import csv
import dataclasses
import json

import keras
import numpy as np
import pytest
from conftest import checkpoint_arrays, run_python_code

from kcolor.gan import ColorizationGAN
from kcolor.training import TrainConfig, _fit_segments, train

TINY = dict(dataset="sample", width_multiplier=0.125, image_size=16, batch_size=8, jit_compile=False, verbose=0)


def test_fit_segments_split_the_run_at_the_warmup_and_after_an_interrupted_epoch():
    assert _fit_segments(0, 6, warmup_epochs=4) == [(0, 4), (4, 6)]
    assert _fit_segments(2, 6, warmup_epochs=4, interrupted_steps=10) == [(2, 3), (3, 4), (4, 6)]
    assert _fit_segments(5, 6, warmup_epochs=4, interrupted_steps=3) == [(5, 6)]
    assert _fit_segments(4, 6, warmup_epochs=4) == [(4, 6)]
    assert _fit_segments(0, 6) == _fit_segments(0, 6, warmup_epochs=6) == [(0, 6)]
    assert _fit_segments(0, 0) == []


class Interrupted(Exception):
    """What `InterruptAt` raises: the run stops there, as if it were killed (after its checkpoints)."""


class InterruptAt(keras.callbacks.Callback):
    """Stops training after batch `batch` (0-based, of the `fit`) of epoch `epoch` by raising `Interrupted`."""

    def __init__(self, epoch, batch):
        super().__init__()
        self.at, self.epoch = (epoch, batch), None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if (self.epoch, batch) == self.at:
            raise Interrupted


@pytest.fixture(scope="module")
def phased_runs(tmp_path_factory):
    """A run of 2 epochs of L1 warm-up and 1 of the GAN game (2 steps each, a checkpoint every step), trained
    through and trained in three parts: interrupted in the warm-up's first epoch, then in the game's epoch.

    Returns:
        `(reference, parts, traces)`: the two run folders, and the `adversarial` of each trace of the train step
        in each `train` call: `traces["reference"]` and `traces["parts"]`, a list per call.
    """
    folder = tmp_path_factory.mktemp("phases")
    config = TrainConfig(**TINY, epochs=3, steps_per_epoch=2, l1_warmup_epochs=2, checkpoint_every=1,
                         sample_count=2, validation_images=8, deterministic=True, out=str(folder / "reference"))
    traced = []
    train_step = ColorizationGAN.train_step

    def counted_train_step(self, *args):  # runs once per trace: fit runs the traced step
        traced.append(self.adversarial)
        return train_step(self, *args)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ColorizationGAN, "train_step", counted_train_step)
        train(config)
        traces = {"reference": list(traced), "parts": []}
        parts = dataclasses.replace(config, out=str(folder / "parts"))
        for options, stop in ((dict(), InterruptAt(0, 0)), (dict(resume=True), InterruptAt(2, 0)),
                              (dict(resume=True), None)):
            traced.clear()
            if stop is None:
                train(dataclasses.replace(parts, **options))
            else:
                with pytest.raises(Interrupted):
                    train(dataclasses.replace(parts, **options), callbacks=[stop])
            traces["parts"].append(list(traced))
    return folder / "reference", folder / "parts", traces


def test_train_traces_the_train_step_once_per_phase(phased_runs):
    """One `fit` for the warm-up and one for the game: the step is traced between them, never inside a `fit`;
    a resumed run that finishes an epoch of the warm-up and trains another (two `fit` calls) traces it once."""
    reference, _, traces = phased_runs
    assert traces["reference"] == [False, True]
    assert traces["parts"] == [[False], [False, True], [True]]
    with open(reference / "history.csv") as file:
        history = list(csv.DictReader(file))
    assert [row["epoch"] for row in history] == ["0", "1", "2"]  # one history across the two fits
    assert [float(row["d_loss"]) > 0 for row in history] == [False, False, True]
    assert sorted(path.name for path in (reference / "samples").iterdir()) == [
        "epoch_001.png", "epoch_002.png", "epoch_003.png"
    ]  # fmt: skip
    assert json.loads((reference / "checkpoint" / "state.json").read_text())["global_step"] == 6


def test_a_run_resumed_in_either_phase_ends_bit_identical(phased_runs):
    reference, parts, _ = phased_runs
    (expected, expected_state), (actual, actual_state) = checkpoint_arrays(reference), checkpoint_arrays(parts)
    assert (actual_state["epoch"], actual_state["global_step"]) == (expected_state["epoch"], 6)
    assert actual.keys() == expected.keys()
    assert [name for name in expected if not np.array_equal(expected[name], actual[name])] == []
    assert (parts / "history.csv").read_text() == (reference / "history.csv").read_text()


# `train` on JAX (TensorFlow blocked, XLA on as JAX's default): the same two phases, each traced once.
JAX_PHASES = """
import csv, sys
from kcolor.gan import ColorizationGAN
from kcolor.training import TrainConfig, train
traced, train_step = [], ColorizationGAN.train_step
def counted_train_step(self, *args):
    traced.append(self.adversarial)
    return train_step(self, *args)
ColorizationGAN.train_step = counted_train_step
result = train(TrainConfig(dataset="sample", width_multiplier=0.125, image_size=16, batch_size=8, epochs=2,
                           steps_per_epoch=2, l1_warmup_epochs=1, sample_count=2, validation_images=8, verbose=0,
                           out=sys.argv[1]))
with open(result.history_path) as file:
    d_loss = [float(row["d_loss"]) for row in csv.DictReader(file)]
print("PHASES", traced, [value > 0 for value in d_loss], "tensorflow" in sys.modules)
"""


@pytest.mark.slow
def test_train_traces_the_train_step_once_per_phase_on_jax(tmp_path):
    result = run_python_code(JAX_PHASES.replace("sys.argv[1]", repr(str(tmp_path / "run"))), backend="jax",
                             block_tensorflow=True, timeout=600)
    assert "PHASES [False, True] [False, True] False" in result.stdout, result.stdout


class WeightsAtStart(keras.callbacks.Callback):
    """Keeps the generator's weights as they are when `fit` begins."""

    def __init__(self):
        super().__init__()
        self.weights = None

    def on_train_begin(self, logs=None):
        self.weights = self.weights or self.model.generator.get_weights()


def test_a_gan_phase_of_its_own_starts_from_an_l1_only_run(tmp_path):
    l1_run = train(TrainConfig(**TINY, out=str(tmp_path / "l1"), epochs=1, steps_per_epoch=2, l1_only=True))
    warm = l1_run.gan.generator.get_weights()
    at_start = WeightsAtStart()
    gan_config = TrainConfig(**TINY, out=str(tmp_path / "gan"), epochs=1, steps_per_epoch=1, l1_warmup_epochs=0,
                             initial_generator=str(l1_run.run_dir))
    gan_run = train(gan_config, callbacks=[at_start])
    assert gan_run.gan.adversarial and gan_run.history["d_loss"][0] > 0  # the GAN game from the first step ...
    for started, trained in zip(at_start.weights, warm, strict=True):  # ... with the L1 run's generator
        np.testing.assert_array_equal(started, trained)
    fresh = WeightsAtStart()
    train(dataclasses.replace(gan_config, out=str(tmp_path / "fresh"), initial_generator=None), callbacks=[fresh])
    assert not all(np.array_equal(a, b) for a, b in zip(fresh.weights, warm))
    with pytest.raises(ValueError, match="another architecture.*same --preset and --width-multiplier"):
        train(dataclasses.replace(gan_config, out=str(tmp_path / "wider"), width_multiplier=0.25))
