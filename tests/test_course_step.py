"""Notebook 02's `ConditionalGAN`, the GAN students write, and kcolor's `ColorizationGAN` play the same game.

The student's class is read from the notebook's cell that starts with `# The student's GAN` and exec'd, without
running the notebook. From the same generator and discriminator weights and the same batch, one train step of
each (float32, one device, Adam(2e-4, beta_1=0.5), the same lambda and label smoothing, no weight averaging, no
XLA) must give the same discriminator loss, the same generator losses and the same weights afterwards.

What may differ, and why it does not here:

- kcolor runs the generator forward once per batch and feeds that G(z) to both moves; the student's step runs it
  twice (before D's move and inside G's tape). Updating D does not change G's weights, and batch normalization in
  training mode normalizes with the batch's own statistics, so both forwards give the same G(z), *provided
  nothing random happens in between*: the networks here have no dropout (rate 0 in every decoder block), so the
  comparison is exact. With dropout the two forwards would draw different masks. The second forward also moves
  the generator's batch-norm *moving* statistics a second time, which the step itself never reads: the
  generator's non-trainable weights are left out of the comparison (the discriminator's are compared: both
  steps call D three times in the same order, on the same inputs).
- The losses are the same formulas written differently (`keras.losses.BinaryCrossentropy`'s sum over the batch
  divided by its size, against kcolor's `ops.mean`), so they agree to float32 rounding only.
"""

import dataclasses
from pathlib import Path

import keras
import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
if keras.backend.backend() != "tensorflow":
    pytest.skip("the student's step is written with tf.GradientTape", allow_module_level=True)

import nbformat  # noqa: E402

from kcolor.color import rgb_to_model_inputs  # noqa: E402
from kcolor.gan import ColorizationGAN, default_optimizer  # noqa: E402
from kcolor.models import build_discriminator, build_generator, get_preset  # noqa: E402

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "02_training_the_gan.ipynb"
MARKER = "# The student's GAN"
LEARNING_RATE = 2e-4
L1_WEIGHT, LABEL_SMOOTHING = 100.0, 0.9

# Losses: float32 rounds every operation to a relative 6e-8 (half its 1.2e-7 epsilon). A loss here is a chain of
# a few hundred operations (the convolutions' sums, batch norm, the cross-entropy, the means), whose rounding
# errors add up like a random walk: about sqrt(300) x 6e-8 = 1e-6 relative, 1e-5 leaves a margin of ten.
LOSS_RTOL = 1e-5
# Weights: Adam's first step moves every weight by lr * m / (sqrt(v) + epsilon) = lr * g / (|g| + 1e-7), about
# lr = 2e-4 in the direction of -sign(g), whatever the gradient's size. A relative error d in g changes that move
# by lr * d * 1e-7 / |g|: nothing, unless |g| is itself near 1e-7. So rounding leaves weights equal to ~1e-10,
# while any real difference in the step (another lambda, another smoothing, a missing term) flips the sign of
# some gradients and moves those weights apart by up to 2 lr = 4e-4. lr / 100 tells the two apart.
WEIGHT_ATOL = LEARNING_RATE / 100


def student_gan_class():
    """The `ConditionalGAN` class of notebook 02, exec'd from its cell with the names that cell uses."""
    cells = [
        cell
        for cell in nbformat.read(NOTEBOOK, as_version=4).cells
        if cell.cell_type == "code" and cell.source.startswith(MARKER)
    ]
    assert len(cells) == 1, f"notebook 02 needs exactly one code cell starting with {MARKER!r}"
    namespace = {"keras": keras, "tf": tf, "rgb_to_model_inputs": rgb_to_model_inputs}
    exec(compile(cells[0].source, f"{NOTEBOOK.name} ({MARKER})", "exec"), namespace)
    return namespace["ConditionalGAN"]


def networks():
    """Small kcolor networks without dropout (see the module docstring), with seeded weights."""
    preset = get_preset("nazeri-cifar")
    preset = dataclasses.replace(preset, decoder=tuple((filters, 0.0) for filters, _ in preset.decoder))
    keras.utils.set_random_seed(0)
    generator = build_generator(preset, width_multiplier=0.125, image_size=32)
    discriminator = build_discriminator(preset, width_multiplier=0.125, image_size=32)
    return generator, discriminator


def twin(model):
    clone = keras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    return clone


def one_step_each(student_l1_weight=L1_WEIGHT, student_label_smoothing=LABEL_SMOOTHING):
    """One train step of kcolor's GAN and of the student's, from the same weights on the same batch.

    Returns:
        `(kcolor_logs, student_logs, kcolor_gan, student_gan)`.
    """
    generator, discriminator = networks()
    student_networks = twin(generator), twin(discriminator)
    images = tf.constant(np.random.default_rng(0).integers(0, 256, (8, 32, 32, 3), dtype=np.uint8))

    gan = ColorizationGAN(generator, discriminator)
    gan.compile(
        default_optimizer(LEARNING_RATE, beta_1=0.5),
        default_optimizer(LEARNING_RATE, beta_1=0.5),
        l1_weight=L1_WEIGHT,
        label_smoothing=LABEL_SMOOTHING,
        jit_compile=False,
    )
    assert gan.generator_average is None, "no weight averaging in this comparison"
    kcolor_logs = {name: float(value) for name, value in gan.train_step(images).items()}

    student = student_gan_class()(*student_networks)
    student.compile(
        d_optimizer=keras.optimizers.Adam(LEARNING_RATE, beta_1=0.5),
        g_optimizer=keras.optimizers.Adam(LEARNING_RATE, beta_1=0.5),
        l1_weight=student_l1_weight,
        label_smoothing=student_label_smoothing,
    )
    student_logs = {name: float(value) for name, value in student.train_step(images).items()}
    student_logs["g_loss"] = student_logs["g_adversarial"] + student_l1_weight * student_logs["g_l1"]
    return kcolor_logs, student_logs, gan, student


def differences(kcolor_logs, student_logs, gan, student):
    """Each compared quantity's difference: relative for losses, largest absolute for weights."""
    found = {
        name: abs(student_logs[name] - kcolor_logs[name]) / abs(kcolor_logs[name])
        for name in ("d_loss", "g_loss", "g_adversarial", "g_l1")
    }
    pairs = {
        "generator weights": (gan.generator.trainable_weights, student.generator.trainable_weights),
        "discriminator weights": (gan.discriminator.weights, student.discriminator.weights),
    }
    for name, (ours, theirs) in pairs.items():
        assert len(ours) == len(theirs)
        found[name] = max(
            float(np.max(np.abs(keras.ops.convert_to_numpy(a) - keras.ops.convert_to_numpy(b))))
            for a, b in zip(ours, theirs)
        )
    return found


def test_the_student_step_and_kcolors_step_agree():
    found = differences(*one_step_each())
    for name in ("d_loss", "g_loss", "g_adversarial", "g_l1"):
        assert found[name] <= LOSS_RTOL, f"{name}: relative difference {found[name]:.2e} > {LOSS_RTOL:.0e}"
    for name in ("generator weights", "discriminator weights"):
        assert found[name] <= WEIGHT_ATOL, f"{name} differ by up to {found[name]:.2e} > {WEIGHT_ATOL:.0e}"


@pytest.mark.parametrize(
    "change, moved",
    [
        (dict(student_l1_weight=50.0), ("g_loss", "generator weights")),
        (dict(student_label_smoothing=1.0), ("d_loss", "discriminator weights")),
    ],
)
def test_the_comparison_notices_another_lambda_or_smoothing(change, moved):
    """The tolerances are tight enough: a student step with another lambda or smoothing does not pass."""
    found = differences(*one_step_each(**change))
    assert found[moved[0]] > LOSS_RTOL, found
    assert found[moved[1]] > WEIGHT_ATOL, found
