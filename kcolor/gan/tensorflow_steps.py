"""`ColorizationGAN`'s train and test steps for the TensorFlow backend: `tf.GradientTape`s.

`train_step` plays the same round as notebook 02's `ConditionalGAN`: D's move (`discriminator_move`), then G's
move against the freshly updated D. Keras compiles it into one `tf.function` (XLA when `jit_compile=True`);
the Python loop over generator updates is unrolled at trace time. Four production details are kept out of the
way in small named helpers:

- **One generator forward for both moves**, as in the pix2pix authors' code: updating D does not touch G's
  weights, so G(z) computed before D's update *is* the G(z) of G's update. G's tape is paused while D plays
  (`tape.stop_recording()`), so the algorithm stays the alternating one, minus a redundant forward. Further
  generator updates (`generator_steps > 1`) run a fresh forward each, since G has changed.
- **Several replicas** (`MirroredStrategy`, `MultiWorkerMirroredStrategy`): the step runs once per replica on
  its share of the global batch and the optimizers *sum* the replicas' gradients, so every loss is divided by
  the number of replicas before differentiation (`_minimize`): the update is the gradient of the loss averaged
  over the global batch. Logged values are the replicas' unscaled losses (the trackers average them).
- **Mixed precision**: `optimizer.scale_loss` multiplies the loss by a `LossScaleOptimizer`'s scale (`_minimize`).
- **Several workers**: logged values travel with shape (1,) (`_for_keras_reduction`).
"""

import contextlib

import tensorflow as tf

from kcolor.color import rgb_to_model_inputs
from kcolor.gan.keras_internals import spans_several_workers
from kcolor.gan.losses import discriminator_accuracy, discriminator_loss, generator_loss


def train_step(gan, data):
    images = gan.images_from_data(data)
    lightness, true_ab = rgb_to_model_inputs(images)  # z and x
    generator, discriminator = gan.generator, gan.discriminator
    values = {}

    for step in range(gan.generator_steps):
        with _tape_for(generator.trainable_variables) as tape:
            predicted_ab = generator(lightness, training=True)
            if step == 0 and gan.adversarial:
                with tape.stop_recording():  # D's move on this same G(z), not differentiated for G
                    values.update(discriminator_move(gan, lightness, true_ab, tf.stop_gradient(predicted_ab)))

            # G's move: make the updated D say "real", and stay near the true color.
            fake_logits = discriminator([lightness, predicted_ab], training=True) if gan.adversarial else None
            g_loss, g_adversarial, g_l1 = generator_loss(
                fake_logits, true_ab, predicted_ab, gan.l1_weight, gan.chroma_weight, gan.chroma_penalty
            )
        _minimize(gan.generator_optimizer, tape, g_loss, generator.trainable_variables)

    values["g_loss"], values["g_l1"] = g_loss, g_l1
    if gan.adversarial:
        values["g_adversarial"] = g_adversarial
    return _for_keras_reduction(gan.update_trackers(values, gan.train_trackers))


def discriminator_move(gan, lightness, true_ab, fake_ab):
    """D's move: real color -> `gan.label_smoothing`, G's color -> 0; one optimizer step on D's weights.

    Returns:
        The values to log: `d_loss`, `d_real_accuracy` and `d_fake_accuracy`.
    """
    discriminator = gan.discriminator
    with tf.GradientTape() as tape:
        real_logits = discriminator([lightness, true_ab], training=True)
        fake_logits = discriminator([lightness, fake_ab], training=True)
        d_loss = discriminator_loss(real_logits, fake_logits, gan.label_smoothing)
    _minimize(gan.discriminator_optimizer, tape, d_loss, discriminator.trainable_variables)
    real_accuracy, fake_accuracy = discriminator_accuracy(real_logits, fake_logits)
    return {"d_loss": d_loss, "d_real_accuracy": real_accuracy, "d_fake_accuracy": fake_accuracy}


def test_step(gan, data):
    images = gan.images_from_data(data)
    lightness, true_ab = rgb_to_model_inputs(images)
    predicted_ab = gan.generator(lightness, training=False)
    values = gan.test_values(images, predicted_ab, lightness, true_ab)
    return _for_keras_reduction(gan.update_trackers(values, gan.test_trackers))


# --------------------------------------------------------------------------------------------------------
# Production details.


@contextlib.contextmanager
def _tape_for(variables):
    """A `GradientTape` that watches `variables` only: G's tape does not record D's weights, which G's loss uses."""
    with tf.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch([variable.value for variable in variables])
        yield tape


def _minimize(optimizer, tape, loss, variables):
    """One optimizer step on `loss`, after dividing it by the replica count and scaling it for mixed_float16.

    Both are no-ops on one device in float32. The scaling is recorded on `tape` (re-entered for it), so the
    gradient is that of the scaled loss, as the optimizer expects.
    """
    with tape:
        replicas = tf.distribute.get_replica_context().num_replicas_in_sync
        if replicas > 1:
            loss = loss / replicas
        scaled_loss = optimizer.scale_loss(loss)
    optimizer.apply(tape.gradient(scaled_loss, variables), variables)


def _for_keras_reduction(logs):
    """The step's logs, shaped for Keras's cross-worker reduction.

    Under a multi-worker `MultiWorkerMirroredStrategy`, Keras 3 averages every logged value over the workers with
    `strategy.reduce("MEAN", value, axis=0)`, which fails on scalars ("Invalid reduction dimension 0 for input
    with 0 dimensions", tensorflow/tensorflow#72388). Shape `(1,)` values come out of that reduction as scalars.
    """
    strategy = tf.distribute.get_strategy()
    if spans_several_workers(strategy):
        return {name: tf.reshape(value, [1]) for name, value in logs.items()}
    return logs
