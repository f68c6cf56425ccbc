import json
import math
import subprocess
import sys

import keras
import numpy as np
import pytest
from conftest import (
    BLOCK_TENSORFLOW,
    finish,
    skip_if_simulation_breaks_tensorflow_bfloat16,
    start_process,
    stop,
    subprocess_env,
)

from kcolor.gan import ColorizationGAN, GANOptimizer, discriminator_loss, generator_loss
from kcolor.gan.losses import batch_psnr, chroma_loss
from kcolor.models import build_discriminator, build_generator

WIDTH = 0.125
TRAIN_LOGS = {"d_loss", "g_loss", "g_adversarial", "g_l1", "d_real_accuracy", "d_fake_accuracy"}


def make_gan(l1_only=False, width=WIDTH, **compile_kwargs):
    # Without XLA unless a test asks for it: for a few tiny steps on a CPU, compiling costs more than it saves
    # (the XLA path is covered by test_fit_on_tensorflow and the JAX tests).
    compile_kwargs.setdefault("jit_compile", False)
    generator = build_generator("nazeri-cifar", width_multiplier=width)
    discriminator = None if l1_only else build_discriminator("nazeri-cifar", width_multiplier=width)
    gan = ColorizationGAN(generator, discriminator)
    gan.compile(**compile_kwargs)
    return gan


def random_images(count=32, size=32, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (count, size, size, 3), dtype=np.uint8)


def weights(model):
    return [w.copy() for w in model.get_weights()]


def changed(before, model):
    return any(np.abs(a - b).max() > 0 for a, b in zip(before, model.get_weights()))


# The same checks, run in-process on TensorFlow and in a TensorFlow-free subprocess on JAX (`jax_checks`).
FIT_CHECK = """
import math, sys
import numpy as np, keras
from kcolor.gan import ColorizationGAN
from kcolor.models import build_discriminator, build_generator
keras.utils.set_random_seed(0)
images = np.random.default_rng(0).integers(0, 256, (32, 32, 32, 3), dtype=np.uint8)
gan = ColorizationGAN(build_generator(width_multiplier=0.125), build_discriminator(width_multiplier=0.125))
gan.compile(generator_steps=2)
g0 = [w.copy() for w in gan.generator.get_weights()]
d0 = [w.copy() for w in gan.discriminator.get_weights()]
history = gan.fit(images, batch_size=8, epochs=1, verbose=0, validation_data=images[:8])
logs = {k: v[-1] for k, v in history.history.items()}
assert set(logs) == {"d_loss", "g_loss", "g_adversarial", "g_l1", "d_real_accuracy", "d_fake_accuracy",
                     "val_l1", "val_psnr"}, logs
assert all(math.isfinite(v) for v in logs.values()), logs
assert any(np.abs(a - b).max() > 0 for a, b in zip(g0, gan.generator.get_weights()))
assert any(np.abs(a - b).max() > 0 for a, b in zip(d0, gan.discriminator.get_weights()))
# 4 batches: one discriminator update and two generator updates each.
assert int(gan.discriminator_optimizer.iterations) == 4, int(gan.discriminator_optimizer.iterations)
assert int(gan.generator_optimizer.iterations) == 8, int(gan.generator_optimizer.iterations)
# Adam's moments really moved (they are not frozen constants inside the compiled step).
assert all(np.abs(keras.ops.convert_to_numpy(v)).max() > 0
           for v in gan.discriminator_optimizer.variables if "momentum" in v.path)
print("tensorflow" in sys.modules)
"""


# The chroma term is part of the generator's loss on both backends: with lambda 0 and no discriminator the logged
# g_loss is chroma_weight x the chroma L1 alone, so it is 0 at weight 0 and scales with the weight (the same seed
# gives the same dropout masks, hence the same prediction, in each fresh model).
CHROMA_CHECK = """
import numpy as np, keras
from kcolor.gan import ColorizationGAN
from kcolor.models import build_generator
images = np.random.default_rng(1).integers(0, 256, (8, 32, 32, 3), dtype=np.uint8)
def first_step(chroma_weight, chroma_penalty="absolute"):
    keras.utils.set_random_seed(0)
    gan = ColorizationGAN(build_generator(width_multiplier=0.125))
    gan.compile(l1_weight=0.0, chroma_weight=chroma_weight, chroma_penalty=chroma_penalty, jit_compile=False)
    return gan.train_on_batch(images, return_dict=True)
zero, one, three = first_step(0.0), first_step(1.0), first_step(3.0)
assert zero["g_loss"] == 0.0 and zero["g_l1"] > 0.05, zero
assert 0.01 < one["g_loss"] < 2.0, one
assert abs(three["g_loss"] - 3.0 * one["g_loss"]) < 1e-4 * three["g_loss"], (one, three)
# Chroma differences of random photos against a fresh generator's near-gray output are below 1, so their mean
# square is below their mean absolute value.
squared = first_step(1.0, "squared")
assert 0.0 < squared["g_loss"] < one["g_loss"], (squared, one)
"""


def test_fit_on_tensorflow():
    namespace = {}
    exec(FIT_CHECK, namespace)


# With `adversarial = False` the GAN's generator follows exactly the L1-only U-Net's updates, its discriminator
# stays untouched, and the logged names do not change; set back between two `fit` calls, it plays the GAN game.
# Per model: a 2-epoch `fit` of warm-up, then `fit(epochs=3, initial_epoch=2)` of the game (the weights saved
# after epoch 2), tracing the train step once per phase. The U-Net trains 3 epochs in one `fit`.
WARMUP_CHECK = """
import math
import numpy as np, keras
from kcolor.gan import ColorizationGAN
from kcolor.models import build_discriminator, build_generator
images = np.random.default_rng(1).integers(0, 256, (24, 32, 32, 3), dtype=np.uint8)

traced = {}  # id of a model -> `adversarial` at each trace of its train step (fit runs the traced step)

class CountingGAN(ColorizationGAN):
    def train_step(self, *args):
        traced.setdefault(id(self), []).append(self.adversarial)
        return super().train_step(*args)

class EndOfWarmup(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if epoch == 1:  # the last epoch of the warm-up
            self.generator = [w.copy() for w in self.model.generator.get_weights()]
            discriminator = self.model.discriminator
            self.discriminator = None if discriminator is None else [w.copy() for w in discriminator.get_weights()]

def trained(with_discriminator, one_fit):
    keras.utils.set_random_seed(0)
    generator = build_generator(width_multiplier=0.125)  # the same initial weights in every model
    discriminator = build_discriminator(width_multiplier=0.125) if with_discriminator else None
    gan = CountingGAN(generator, discriminator)
    gan.compile(keras.optimizers.SGD(0.1), keras.optimizers.SGD(0.1))
    d_before = None if discriminator is None else [w.copy() for w in discriminator.get_weights()]
    warmed_up = EndOfWarmup()
    fit = dict(batch_size=8, shuffle=False, verbose=0)
    if one_fit:
        history = gan.fit(images[:16], epochs=3, callbacks=[warmed_up], **fit).history
    else:
        gan.adversarial = False
        history = gan.fit(images[:16], epochs=2, callbacks=[warmed_up], **fit).history
        gan.adversarial = True
        game = gan.fit(images[:16], epochs=3, initial_epoch=2, **fit).history
        history = {name: values + game[name] for name, values in history.items()}
    return gan, d_before, warmed_up, history

def largest_difference(first, second):
    return max(float(np.abs(a - b).max()) for a, b in zip(first, second))

gan, d_before, warmed_up, history = trained(True, one_fit=False)
baseline, _, baseline_warmed_up, baseline_history = trained(False, one_fit=True)
# The U-Net alone (no discriminator) logs only its own losses.
assert set(baseline_history) == {"g_loss", "g_l1"} and math.isfinite(baseline_history["g_l1"][-1]), baseline_history
# After the warm-up: G took the U-Net's very updates (the same float32 operations in the same order, so equal up
# to the last bits; 1e-6 is about 100 units of roundoff of these weights), D was neither updated nor consulted.
assert largest_difference(warmed_up.generator, baseline_warmed_up.generator) < 1e-6
assert largest_difference(warmed_up.discriminator, d_before) == 0
assert history["d_loss"][:2] == [0.0, 0.0] and history["g_adversarial"][:2] == [0.0, 0.0], history
# The third epoch plays the game: D learns, and G's updates leave the U-Net's.
assert gan.adversarial and history["d_loss"][2] > 0 and history["g_adversarial"][2] > 0, history
assert largest_difference(gan.discriminator.get_weights(), d_before) > 0
assert largest_difference(gan.generator.get_weights(), baseline.generator.get_weights()) > 1e-4
# One trace per phase (the U-Net's one phase across its epochs).
assert traced[id(gan)] == [False, True] and traced[id(baseline)] == [False], traced
"""


def test_l1_warmup_on_tensorflow():
    exec(WARMUP_CHECK, {})


class SwitchToTheGame(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        self.model.adversarial = True


def test_adversarial_changes_between_fits_never_inside_one():
    gan = make_gan()
    gan.adversarial = True  # unchanged: nothing to do
    gan.make_train_function()
    gan.adversarial = False  # the next fit traces the L1-only step
    assert gan.train_function is None and not gan.adversarial
    with pytest.raises(RuntimeError, match="cannot change while `fit` runs. Set it between two `fit` calls"):
        gan.fit(random_images(8), batch_size=8, epochs=1, verbose=0, callbacks=[SwitchToTheGame()])
    assert not gan.adversarial
    gan.adversarial = True  # after the failed fit, outside it, as before
    assert gan.adversarial
    with pytest.raises(ValueError, match="no discriminator"):
        make_gan(l1_only=True).adversarial = True


# On JAX, in the subprocess (TensorFlow's equivalent is test_mixed_precision_on_tensorflow).
MIXED_PRECISION_CHECK = """
import math, numpy as np, keras
from kcolor.gan import ColorizationGAN
from kcolor.models import build_discriminator, build_generator
images = np.random.default_rng(0).integers(0, 256, (16, 32, 32, 3), dtype=np.uint8)
try:
    for policy in ("mixed_bfloat16", "mixed_float16"):
        keras.config.set_dtype_policy(policy)
        gan = ColorizationGAN(build_generator(width_multiplier=0.125), build_discriminator(width_multiplier=0.125))
        gan.compile()
        history = gan.fit(images, batch_size=8, epochs=1, verbose=0)
        assert all(math.isfinite(v[0]) for v in history.history.values()), (policy, history.history)
        assert (policy == "mixed_float16") == isinstance(gan.generator_optimizer, keras.optimizers.LossScaleOptimizer)
        if policy == "mixed_bfloat16":  # (float16 may skip a step whose scaled gradients overflowed)
            assert int(gan.generator_optimizer.iterations) == 2
finally:
    keras.config.set_dtype_policy("float32")
"""


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"])
def test_mixed_precision_on_tensorflow(policy):
    if policy == "mixed_bfloat16":
        skip_if_simulation_breaks_tensorflow_bfloat16()
    keras.config.set_dtype_policy(policy)
    try:
        gan = make_gan()
    finally:
        keras.config.set_dtype_policy("float32")
    assert gan.generator.get_layer("encoder_1_conv").compute_dtype != "float32"
    assert gan.generator.output.dtype == "float32"
    history = gan.fit(random_images(16), batch_size=8, epochs=1, verbose=0)
    assert all(math.isfinite(v[0]) for v in history.history.values()), history.history
    assert isinstance(gan.generator_optimizer, keras.optimizers.LossScaleOptimizer) == (policy == "mixed_float16")


class StopOnceHalved(keras.callbacks.Callback):
    """Ends `fit` after the first epoch whose validation L1 is at most half of `initial`."""

    def __init__(self, initial):
        super().__init__()
        self.initial = initial

    def on_epoch_end(self, epoch, logs=None):
        if logs["val_l1"] <= 0.5 * self.initial:
            self.model.stop_training = True


def test_learning_reduces_l1_on_real_photos(photos):
    """A tiny generator halves its L1 on a handful of real photos, with and without the discriminator.

    The L1 first levels off near 0.7x (about the photos' mean colors), then halves when the generator learns
    where the colors go: after 10 to 12 epochs (measured with seeds 0-2; a fixed 12 epochs ended at 0.50x for
    seed 2, so a CPU's rounding could tip it). Training stops at the first epoch that halves it, within 20.
    """
    data = np.tile(photos, (5, 1, 1, 1))  # 40 images, 5 batches of 8 per epoch
    for l1_only in (False, True):
        keras.utils.set_random_seed(0)
        gan = make_gan(l1_only=l1_only, width=0.25, generator_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5))
        before = gan.evaluate(photos, batch_size=8, verbose=0, return_dict=True)["l1"]
        gan.fit(data, batch_size=8, epochs=20, verbose=0, shuffle=True, validation_data=photos,
                callbacks=[StopOnceHalved(before)])
        after = gan.evaluate(photos, batch_size=8, verbose=0, return_dict=True)["l1"]
        assert after <= 0.5 * before, (l1_only, before, after)


def test_fit_ignores_labels_and_rejects_non_rgb():
    gan = make_gan(l1_only=True)
    images = random_images(8)
    gan.fit(images, np.zeros(8), batch_size=8, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="RGB"):
        gan.fit(images[..., :1], batch_size=8, epochs=1, verbose=0)


def test_predict_returns_colorized_rgb():
    gan = make_gan()
    rgb = keras.ops.convert_to_numpy(gan.predict(random_images(4), verbose=0))
    assert rgb.shape == (4, 32, 32, 3) and rgb.min() >= 0 and rgb.max() <= 1


@pytest.fixture(scope="module")
def trained_gan():
    """A GAN after one epoch of 2 steps: its weights, batch-norm statistics and optimizer states have moved."""
    gan = make_gan()
    gan.fit(random_images(16), batch_size=8, epochs=1, verbose=0)
    return gan


def test_generator_save_and_load_gives_identical_predictions(trained_gan, tmp_path):
    gan = trained_gan
    path = tmp_path / "generator.keras"
    gan.generator.save(path)
    loaded = keras.models.load_model(path)
    lightness = np.random.default_rng(1).uniform(-1, 1, (2, 32, 32, 1)).astype(np.float32)
    # The same operations on the same weights in the same process: equal bit for bit, on any CPU.
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(loaded(lightness)), keras.ops.convert_to_numpy(gan.generator(lightness))
    )


def test_full_gan_checkpoint_restores_weights_and_optimizer_state(trained_gan, tmp_path):
    gan = trained_gan
    path = tmp_path / "gan.weights.h5"
    gan.save_weights(path)
    restored = make_gan()
    restored.load_weights(path)
    for original, copy in zip(gan.weights, restored.weights):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(original), keras.ops.convert_to_numpy(copy))
    assert int(restored.discriminator_optimizer.iterations) == 2
    for original, copy in zip(gan.optimizer.variables, restored.optimizer.variables):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(original), keras.ops.convert_to_numpy(copy))


def test_config_round_trip():
    gan = make_gan()
    clone = ColorizationGAN.from_config(gan.get_config())
    assert clone.generator.count_params() == gan.generator.count_params()
    assert clone.discriminator.count_params() == gan.discriminator.count_params()
    baseline = ColorizationGAN.from_config(make_gan(l1_only=True).get_config())
    assert baseline.l1_only


def test_gan_optimizer_exposes_both_optimizers_variables():
    gan = make_gan()
    assert isinstance(gan.optimizer, GANOptimizer)
    g_count = len(gan.generator_optimizer.variables)
    assert gan.optimizer.generator_variable_count == g_count
    assert gan.optimizer.variables[:g_count] == gan.generator_optimizer.variables
    assert gan.optimizer.variables[g_count:] == gan.discriminator_optimizer.variables
    with pytest.raises(AttributeError):
        gan.optimizer.learning_rate = 0.1


def test_unsupported_backend_is_a_clear_error(monkeypatch):
    gan = ColorizationGAN(build_generator(width_multiplier=WIDTH))
    monkeypatch.setattr(keras.backend, "backend", lambda: "torch")
    with pytest.raises(NotImplementedError, match="tensorflow or jax"):
        gan.compile()


def test_invalid_compile_arguments():
    with pytest.raises(ValueError, match="generator_steps"):
        make_gan(generator_steps=0)
    with pytest.raises(ValueError, match="label_smoothing"):
        make_gan(label_smoothing=1.5)
    with pytest.raises(ValueError, match="chroma_weight"):
        make_gan(chroma_weight=-1.0)
    with pytest.raises(ValueError, match="chroma_penalty must be one of absolute, squared"):
        make_gan(chroma_penalty="cubic")


def test_losses_at_equilibrium():
    zeros = np.zeros((2, 4, 4, 1), np.float32)
    assert float(discriminator_loss(zeros, zeros, label_smoothing=1.0)) == pytest.approx(2 * math.log(2), rel=1e-5)
    total, adversarial, l1 = generator_loss(zeros, np.ones((1, 2, 2, 2)), np.zeros((1, 2, 2, 2)), l1_weight=100.0)
    assert float(adversarial) == pytest.approx(math.log(2), rel=1e-5)
    assert float(l1) == pytest.approx(1.0) and float(total) == pytest.approx(100 + math.log(2), rel=1e-5)
    _, adversarial, _ = generator_loss(None, zeros, zeros)
    assert float(adversarial) == 0.0


def test_chroma_loss_counts_the_amount_of_color_not_the_hue():
    true_ab = np.array([[[[0.3, 0.4]]]], np.float32)  # chroma 0.5
    rotated = np.array([[[[0.5, 0.0]]]], np.float32)  # the same chroma, another hue
    assert float(chroma_loss(true_ab, rotated)) == pytest.approx(0.0, abs=1e-5)
    assert float(chroma_loss(true_ab, np.zeros_like(true_ab))) == pytest.approx(0.5 - 1e-3, abs=1e-5)
    total, _, l1 = generator_loss(None, true_ab, rotated, l1_weight=10.0, chroma_weight=7.0)
    assert float(l1) == pytest.approx(0.3) and float(total) == pytest.approx(3.0, abs=1e-3)
    total, _, _ = generator_loss(None, true_ab, np.zeros_like(true_ab), l1_weight=0.0, chroma_weight=2.0)
    assert float(total) == pytest.approx(2 * (0.5 - 1e-3), abs=1e-4)
    squared = generator_loss(None, true_ab, np.zeros_like(true_ab), 0.0, chroma_weight=2.0, chroma_penalty="squared")
    assert float(squared[0]) == pytest.approx(2 * (0.5 - 1e-3) ** 2, abs=1e-4)
    with pytest.raises(ValueError, match="absolute, squared"):
        chroma_loss(true_ab, rotated, penalty="cubic")


def test_the_options_name_the_same_chroma_penalties_as_the_loss():
    from kcolor import training_config
    from kcolor.gan import losses

    assert training_config.CHROMA_PENALTIES == losses.CHROMA_PENALTIES


def test_chroma_term_on_tensorflow():
    exec(CHROMA_CHECK, {})


def test_label_smoothing_is_one_sided():
    confident = np.full((1, 4, 4, 1), 10.0, np.float32)
    very_fake = -confident
    smoothed = float(discriminator_loss(confident, very_fake, label_smoothing=0.9))
    # real target 0.9: a logit of +10 is over-confident and still costs ~1.0; fakes at target 0 cost ~0
    assert smoothed == pytest.approx(0.1 * 10 + math.log1p(math.exp(-10)) * 2, rel=1e-3)


def test_batch_psnr():
    image = np.random.default_rng(0).uniform(size=(2, 8, 8, 3)).astype(np.float32)
    assert float(batch_psnr(image, image)) == pytest.approx(100.0)
    noisy = np.clip(image + 0.1, 0, 1)
    mse = ((noisy - image) ** 2).reshape(2, -1).mean(axis=1)
    assert float(batch_psnr(image, noisy)) == pytest.approx(np.mean(-10 * np.log10(mse)), rel=1e-4)


def test_jit_compile_auto_follows_the_hardware():
    from kcolor.devices import default_jit_compile

    assert make_gan(jit_compile="auto").jit_compile is default_jit_compile()
    assert make_gan(jit_compile=True).jit_compile is True
    with pytest.raises(ValueError, match='True, False or "auto"'):
        make_gan(jit_compile="yes")


def test_averaged_generator_swaps_the_moving_average_in_and_back():
    keras.utils.set_random_seed(0)
    gan = make_gan(generator_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5, use_ema=True, ema_momentum=0.5))
    gan.fit(random_images(16), batch_size=8, epochs=1, verbose=0)
    trained = weights(gan.generator)
    average = [keras.ops.convert_to_numpy(value) for value in gan.generator_average]
    variables = gan.generator.trainable_variables
    assert len(average) == len(variables)
    assert any(np.abs(keras.ops.convert_to_numpy(v.value) - a).max() > 0 for v, a in zip(variables, average))
    with gan.averaged_generator() as generator:
        assert generator is gan.generator
        for variable, value in zip(variables, average):
            np.testing.assert_array_equal(keras.ops.convert_to_numpy(variable.value), value)
    assert not changed(trained, gan.generator)  # back to the trained weights
    assert make_gan().generator_average is None


# ---------------------------------------------------------------------------------------------------------------
# The JAX checks, in one TensorFlow-free interpreter (as on a machine without TensorFlow). It is a background job
# of the session (tests/conftest.py): it compiles on the second core while in-process tests run; the tests below
# collect its results. One interpreter for the three checks also pays once for starting Python and for compiling
# the networks' initializers. XLA optimises at level 0 in tests (the root conftest.py): for these tiny networks
# compiling dominates, and the checks are about kcolor's train step, not XLA's code (about 45 instead of 80
# CPU-seconds; the three checks in three interpreters at the default level took 130).

JAX_CHECKS = {"fit": FIT_CHECK, "warmup": WARMUP_CHECK, "mixed_precision": MIXED_PRECISION_CHECK,
              "chroma": CHROMA_CHECK}
JAX_TESTS = {"test_fit_on_jax_without_tensorflow_installed": "fit", "test_l1_warmup_on_jax": "warmup",
             "test_mixed_precision_on_jax": "mixed_precision", "test_chroma_term_on_jax": "chroma"}

# Runs the checks of argv[1] (JSON: name -> code), each in a fresh namespace with its output captured, and prints
# their outcomes as one JSON line.
RUN_CHECKS = """
import contextlib, io, json, sys, traceback
checks, outcomes = json.loads(sys.argv[1]), {}
for name, code in checks.items():
    output = io.StringIO()
    try:
        with contextlib.redirect_stdout(output):
            exec(code, {"__name__": "__check__"})
        outcomes[name] = {"passed": True, "stdout": output.getvalue()}
    except BaseException:
        outcomes[name] = {"passed": False, "stdout": output.getvalue(), "error": traceback.format_exc()}
print("OUTCOMES", json.dumps(outcomes))
"""


class JaxChecks:
    """`JAX_CHECKS` (those of the selected tests) running in the background in one fresh interpreter, its output
    going to `folder/jax.stdout` and `folder/jax.stderr`."""

    def __init__(self, names, folder):
        checks = {name: JAX_CHECKS[name] for name in names}
        self.process = start_process([sys.executable, "-c", BLOCK_TENSORFLOW + RUN_CHECKS, json.dumps(checks)],
                                     log_to=folder / "jax", env=subprocess_env("jax"))
        self.outcomes, self.failure = None, None

    def outcome(self, name, timeout=1200):
        if self.outcomes is None and self.failure is None:
            try:
                result = finish(self.process, timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                result = finish(self.process)
                output = f"{result.stdout}\n{result.stderr[-4000:]}"
                self.failure = f"the JAX subprocess did not finish in {timeout} s:\n{output}"
            else:
                lines = [line for line in result.stdout.splitlines() if line.startswith("OUTCOMES ")]
                if lines:
                    self.outcomes = json.loads(lines[-1].split(" ", 1)[1])
                else:
                    code = result.returncode
                    self.failure = f"the JAX subprocess failed ({code}):\n{result.stdout}\n{result.stderr[-4000:]}"
        assert self.failure is None, self.failure
        outcome = self.outcomes[name]
        assert outcome["passed"], f"JAX check {name!r} failed:\n{outcome['error']}"
        return outcome


@pytest.fixture(scope="module")
def jax_checks(request, tmp_path_factory):
    """The JAX checks of this session's selected JAX tests, in one TensorFlow-free subprocess."""
    selected = {item.name for item in request.session.items if item.path == request.path}
    names = sorted({check for test, check in JAX_TESTS.items() if test in selected}) or list(JAX_CHECKS)
    checks = JaxChecks(names, tmp_path_factory.mktemp("jax_checks"))
    yield checks
    stop([checks.process])


@pytest.mark.slow
def test_fit_on_jax_without_tensorflow_installed(jax_checks):
    # FIT_CHECK prints whether TensorFlow was imported; the subprocess blocks every import of it.
    assert jax_checks.outcome("fit")["stdout"].strip().splitlines()[-1] == "False"


@pytest.mark.slow
def test_l1_warmup_on_jax(jax_checks):
    jax_checks.outcome("warmup")


@pytest.mark.slow
def test_mixed_precision_on_jax(jax_checks):
    jax_checks.outcome("mixed_precision")


@pytest.mark.slow
def test_chroma_term_on_jax(jax_checks):
    jax_checks.outcome("chroma")
