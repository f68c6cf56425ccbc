"""Data-parallel training (`kcolor.distribution`): the first steps on two CPU devices equal one device's.

Each multi-device check runs in a fresh interpreter, because the device count is fixed when the backend starts:
TensorFlow splits the CPU into two logical devices; JAX gets two host devices from
`XLA_FLAGS=--xla_force_host_platform_device_count=2` (and runs with TensorFlow blocked, as on a JAX-only
machine). Both train with plain SGD, whose updates scale with the gradient (Adam's would hide a gradient off by
the replica count), and compare the logged losses of three steps: the first tightly, the next two within the
bound that the GAN's amplification of rounding errors leaves (FIRST_STEP_RTOL and LATER_RTOL, derived below).
"""

import json
import sys

import pytest
from conftest import BLOCK_TENSORFLOW, NO_GRAPH_OPTIMIZER, finish, start_process, stop, subprocess_env

from kcolor.distribution import KINDS, check_global_batch_size, resolve_kind

pytestmark = pytest.mark.slow  # trains in subprocesses

# Relative tolerances, from what float32 arithmetic guarantees rather than from one machine's results (they
# must hold on AVX-512 and AVX2-only CPUs alike).
#
# The first step's logs (D's loss on the initial weights; G's losses after D's first update, from G's initial
# weights) differ between one and two devices only in the order of float32 sums: each device sums its half of
# the batch (the loss means, the batch-norm statistics, the weight gradients) and the halves are then added.
# The longest sum has n = 16384 terms (the L1 mean over 8 images x 32 x 32 pixels x 2 channels; statistics and
# gradients sum at most 8 x 32 x 32 = 8192). Every addition rounds by at most u = 2^-24 (relative). Worst case,
# with every rounding pushing the same way, a reordered sum moves by n * u = 1e-3; rounding errors that go both
# ways grow like sqrt(n) * u = 7.6e-6 per sum instead, and exceed lambda * sqrt(n) * u with a probability below
# 2 exp(-lambda^2 / 2) (Higham & Mary, SIAM J. Sci. Comput. 41(5), 2019). A logged loss passes through about a
# dozen such sums (the statistics of every normalised layer of G and D, the loss mean, D's gradients), so
# sqrt(12) * 7.6e-6 = 2.6e-5, times lambda = 4: 1e-4. Measured: at most 2.5e-6, even with XLA's kernels swapped
# for Eigen's (`--xla_cpu_experimental_ynn_fusion_type=`). A gradient off by the replica count fails it 10-1000
# times over: D's doubled first update moves the first g_loss by 1.3e-3 and g_adversarial by 8e-2.
FIRST_STEP_RTOL = 1e-4
# From the second step on, the GAN at this learning rate amplifies any rounding difference by orders of
# magnitude: perturbing the initial weights of a one-device run by 8 to 64 units of roundoff (relative
# k * 2^-24, random signs, seeds 1-3) moved the losses of steps 2 and 3 by up to 1.7e-3 (g_adversarial, g_loss;
# on JAX). That is the 1.35e-3 by which data-parallel and one-device runs differed on a 2-core AVX2 CPU, and no
# arithmetic bound says how large it can get; 2e-2 leaves 10x room. A wrong scale still fails it: doubling G's
# updates moves g_l1 and g_loss of step 2 by 0.25 (and a wrong D shows in the first step already).
LATER_RTOL = 2e-2

# Trains 3 steps on one device and 3 steps under `kind`, from the same initial weights, and prints both
# loss histories. {setup} runs first (device configuration); the networks are tiny.
COMPARE = """
import json
{setup}
import keras, numpy as np
from kcolor.distribution import describe_distribution, distribution_scope, replica_count, xla_allowed
from kcolor.gan import ColorizationGAN
from kcolor.models import build_discriminator, build_generator

def train(kind, images):
    with distribution_scope(kind) as distribution:
        keras.utils.set_random_seed(0)
        gan = ColorizationGAN(build_generator({preset}, width_multiplier=0.0625),
                              build_discriminator({preset}, width_multiplier=0.0625))
        gan.compile(generator_optimizer=keras.optimizers.SGD(0.05), discriminator_optimizer=keras.optimizers.SGD(0.05),
                    jit_compile=xla_allowed(distribution, {jit}))
        history = gan.fit({data}, epochs=3, steps_per_epoch=1, verbose=0)
        return replica_count(distribution), describe_distribution(distribution), history.history

images = {images}
single = train("none", images)
multi = train("{kind}", images)
print(json.dumps({{"single": single, "multi": multi}}))
"""


def _launch(backend, kind, setup, preset, data, images, log_to, env=None, block_tensorflow=False):
    """Starts the comparison in a fresh interpreter, its output going to the files `log_to`.stdout/.stderr.

    TensorFlow compiles without XLA (`xla_allowed` turns it off under tf.distribute; the single-device run
    matches, and skips a slow XLA compile); JAX always compiles with XLA.
    """
    jit = backend == "jax"
    code = COMPARE.format(setup=setup, preset=preset, data=data, images=images, kind=kind, jit=jit)
    if block_tensorflow:
        code = BLOCK_TENSORFLOW + code
    return start_process([sys.executable, "-c", code], log_to=log_to, env=subprocess_env(backend, env))


def _outcome(process, timeout=600):
    result = finish(process, timeout=timeout)
    assert result.returncode == 0, f"subprocess failed ({result.returncode}):\n{result.stdout}\n{result.stderr[-4000:]}"
    return json.loads(result.stdout.strip().splitlines()[-1])


def _assert_same_losses(outcome):
    (single_replicas, _, single), (replicas, description, multi) = outcome["single"], outcome["multi"]
    assert single_replicas == 1 and replicas == 2, description
    assert set(single) == set(multi) == {"d_loss", "g_loss", "g_adversarial", "g_l1", "d_real_accuracy",
                                         "d_fake_accuracy"}
    for name in ("d_loss", "g_loss", "g_adversarial", "g_l1"):
        assert len(single[name]) == len(multi[name]) == 3, (name, single[name], multi[name])
        assert multi[name][0] == pytest.approx(single[name][0], rel=FIRST_STEP_RTOL), (name, single[name], multi[name])
        assert multi[name][1:] == pytest.approx(single[name][1:], rel=LATER_RTOL), (name, single[name], multi[name])
    # The check has teeth: G's updates moved its L1 loss by far more than LATER_RTOL (by 20-80 %), so a wrongly
    # scaled update would show.
    assert max(abs(value - single["g_l1"][0]) for value in single["g_l1"][1:]) > 5 * LATER_RTOL * single["g_l1"][0]


TF_SETUP = NO_GRAPH_OPTIMIZER + """
import dataclasses
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from kcolor.models import get_preset
# No dropout: its masks are drawn per replica. Each global batch of 8 is one 4-image half twice, so each
# replica's batch-norm statistics (per replica under tf.distribute) equal the global batch's.
base = get_preset("nazeri-cifar")
TINY = dataclasses.replace(base, name="no-dropout", decoder=tuple((filters, 0.0) for filters, _ in base.decoder))
"""


TF_IMAGES = ("np.concatenate([np.repeat(half[None], 2, axis=0).reshape(-1, 32, 32, 3) for half in "
             "np.random.default_rng(0).integers(0, 256, (3, 4, 32, 32, 3), dtype=np.uint8)])")
JAX_IMAGES = "np.random.default_rng(0).integers(0, 256, (24, 32, 32, 3), dtype=np.uint8)"


def start_comparisons(folder):
    """Both backends' comparisons, started together (about half the wall time of one after the other)."""
    processes = {
        "tensorflow": _launch(
            "tensorflow", "mirrored", TF_SETUP, "TINY",
            "__import__('tensorflow').data.Dataset.from_tensor_slices(images).batch(8)", TF_IMAGES,
            log_to=folder / "tensorflow",
        ),
        "jax": _launch(
            "jax", "data-parallel", "", '"nazeri-cifar"', "images, batch_size=8, shuffle=False", JAX_IMAGES,
            log_to=folder / "jax", env={"XLA_FLAGS": "--xla_force_host_platform_device_count=2"},
            block_tensorflow=True,
        ),
    }  # fmt: skip
    return processes


@pytest.fixture(scope="module")
def comparisons(tmp_path_factory):
    """The two comparisons' processes, started together (each test waits for its own)."""
    processes = start_comparisons(tmp_path_factory.mktemp("distribution_comparisons"))
    yield processes
    stop(processes.values())


def test_mirrored_strategy_matches_one_device(comparisons):
    outcome = _outcome(comparisons["tensorflow"])
    _assert_same_losses(outcome)
    assert "CPU:1" in outcome["multi"][1]


def test_data_parallel_on_jax_matches_one_device(comparisons):
    _assert_same_losses(_outcome(comparisons["jax"]))


def test_resolve_kind():
    assert resolve_kind(None, "tensorflow") == resolve_kind("none", "jax") == "none"
    assert resolve_kind("mirrored", "tensorflow") == "mirrored"
    assert resolve_kind("multi_worker", "tensorflow") == "multi-worker"
    assert resolve_kind("data-parallel", "jax") == "data-parallel"
    assert resolve_kind("auto", "tensorflow") == "none"  # this process sees one CPU device
    with pytest.raises(ValueError, match="KERAS_BACKEND=jax"):
        resolve_kind("data-parallel", "tensorflow")
    with pytest.raises(ValueError, match="KERAS_BACKEND=tensorflow"):
        resolve_kind("mirrored", "jax")
    with pytest.raises(ValueError, match="choose one of"):
        resolve_kind("horovod", "tensorflow")
    assert "auto" in KINDS


def test_global_batch_must_split_evenly():
    class ThreeReplicas:  # stands in for a tf.distribute strategy
        num_replicas_in_sync = 3

    check_global_batch_size(7, None)
    check_global_batch_size(129, ThreeReplicas())
    with pytest.raises(ValueError, match="multiple of the 3 replicas"):
        check_global_batch_size(128, ThreeReplicas())


# One worker of a two-worker `kcolor train --distribute multi-worker` run on localhost (TF_CONFIG says which).
WORKER = NO_GRAPH_OPTIMIZER + """
import json, sys
from kcolor.training import TrainConfig, train
result = train(TrainConfig(out=sys.argv[1], dataset="sample", width_multiplier=0.125, image_size=16, batch_size=8,
                           epochs=1, steps_per_epoch=2, verbose=0, distribute="multi-worker"))
print("HISTORY", json.dumps(result.history))
"""


def _free_port():
    import socket

    with socket.socket() as probe:
        probe.bind(("localhost", 0))
        return probe.getsockname()[1]


def start_workers(folder):
    """The two workers of a `multi-worker` run, started (their output goes to `worker{index}.stdout`)."""
    cluster = {"worker": [f"localhost:{_free_port()}" for _ in range(2)]}
    processes = []
    for index in range(2):
        tf_config = json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})
        processes.append(start_process([sys.executable, "-c", WORKER, str(folder / f"worker{index}")],
                                       log_to=folder / f"worker{index}",
                                       env=subprocess_env("tensorflow", {"TF_CONFIG": tf_config})))
    return processes


@pytest.fixture(scope="module")
def workers(tmp_path_factory):
    """The processes of the two workers of a `multi-worker` run."""
    processes = start_workers(tmp_path_factory.mktemp("multi_worker"))
    yield processes
    stop(processes)


def test_multi_worker_training_on_two_local_workers(workers):
    """Two TensorFlow workers train one model in lockstep (their logged losses are identical).

    Before `ColorizationGAN` skipped Keras's symbolic build, `fit` failed here: Keras averaged a uint8 batch
    across the workers to trace the model.
    """
    histories = []
    for process in workers:
        result = finish(process, timeout=600)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        histories.append(json.loads(result.stdout.split("HISTORY", 1)[1]))
    assert histories[0] == histories[1]  # the same all-reduced updates on both: equal bit for bit on any CPU
    assert set(histories[0]) >= {"d_loss", "g_loss", "g_l1", "val_psnr"}
    assert all(value == value and abs(value) < 1e6 for values in histories[0].values() for value in values)
