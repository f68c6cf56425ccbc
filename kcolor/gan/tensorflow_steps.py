"""`ColorizationGAN`'s train and test steps for the TensorFlow backend: `tf.GradientTape`s.

Keras compiles these into one `tf.function` (XLA when `jit_compile=True`); the Python loop over generator
updates is unrolled at trace time.

One generator forward serves both the discriminator update and the first generator update, as in the
pix2pix authors' code: updating D does not touch G's weights, so G(z) computed before D's update *is* the G(z)
of the generator update. The generator's tape is paused while D is updated and resumed for D's verdict on
G(z) with D's freshly updated weights, so the algorithm stays the alternating one (D first, then G against the
new D), minus a redundant generator forward. Further generator updates (`generator_steps > 1`) run a fresh
forward each, since G has changed.

Under a `tf.distribute` strategy (`MirroredStrategy`, `MultiWorkerMirroredStrategy`) the step runs once per
replica on its share of the global batch, and the optimizers *sum* the replicas' gradients; every loss is
therefore divided by the number of replicas before differentiation, so that the update is the gradient of
the loss averaged over the global batch. Logged values are the replicas' unscaled losses (the trackers
average them across replicas); across several workers they travel with shape (1,) (`_for_keras_reduction`).
"""

import tensorflow as tf

from kcolor.color import rgb_to_model_inputs
from kcolor.gan.losses import discriminator_accuracy, discriminator_loss, generator_loss


def _for_keras_reduction(logs):
    """The step's logs, shaped for Keras's cross-worker reduction.

    Under a multi-worker `MultiWorkerMirroredStrategy`, Keras 3 averages every logged value over the workers with
    `strategy.reduce("MEAN", value, axis=0)`, which fails on scalars ("Invalid reduction dimension 0 for input
    with 0 dimensions", tensorflow/tensorflow#72388). Shape `(1,)` values come out of that reduction as scalars.
    """
    strategy = tf.distribute.get_strategy()
    if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) and strategy.extended._in_multi_worker_mode():
        return {name: tf.reshape(value, [1]) for name, value in logs.items()}
    return logs


def _scaled(optimizer, loss):
    """The loss to differentiate: divided by the replica count, then scaled for mixed_float16."""
    replicas = tf.distribute.get_replica_context().num_replicas_in_sync
    if replicas > 1:
        loss = loss / replicas
    return optimizer.scale_loss(loss)


def _discriminator_update(gan, lightness, true_ab, fake_ab, values):
    discriminator = gan.discriminator
    with tf.GradientTape() as tape:
        real_logits = discriminator([lightness, true_ab], training=True)
        fake_logits = discriminator([lightness, fake_ab], training=True)
        d_loss = discriminator_loss(real_logits, fake_logits, gan.label_smoothing)
        scaled_loss = _scaled(gan.discriminator_optimizer, d_loss)
    variables = discriminator.trainable_variables
    gan.discriminator_optimizer.apply(tape.gradient(scaled_loss, variables), variables)
    values["d_loss"] = d_loss
    values["d_real_accuracy"], values["d_fake_accuracy"] = discriminator_accuracy(real_logits, fake_logits)


def _generator_loss(gan, lightness, true_ab, predicted_ab):
    fake_logits = gan.discriminator([lightness, predicted_ab], training=True) if gan.adversarial else None
    return generator_loss(fake_logits, true_ab, predicted_ab, gan.l1_weight)


def train_step(gan, data):
    images = gan.images_from_data(data)
    lightness, true_ab = rgb_to_model_inputs(images)
    generator = gan.generator
    g_variables = generator.trainable_variables
    values = {}

    for step in range(gan.generator_steps):
        with tf.GradientTape(watch_accessed_variables=False) as tape:
            tape.watch([variable.value for variable in g_variables])
            predicted_ab = generator(lightness, training=True)
            if step == 0 and gan.adversarial:
                with tape.stop_recording():  # D's update on this same G(z), not differentiated for G
                    _discriminator_update(gan, lightness, true_ab, tf.stop_gradient(predicted_ab), values)
            g_loss, adversarial, l1 = _generator_loss(gan, lightness, true_ab, predicted_ab)
            scaled_loss = _scaled(gan.generator_optimizer, g_loss)
        gan.generator_optimizer.apply(tape.gradient(scaled_loss, g_variables), g_variables)
    values["g_loss"], values["g_l1"] = g_loss, l1
    if gan.adversarial:
        values["g_adversarial"] = adversarial
    return _for_keras_reduction(gan.update_trackers(values, gan.train_trackers))


def test_step(gan, data):
    images = gan.images_from_data(data)
    lightness, true_ab = rgb_to_model_inputs(images)
    predicted_ab = gan.generator(lightness, training=False)
    values = gan.test_values(images, predicted_ab, lightness, true_ab)
    return _for_keras_reduction(gan.update_trackers(values, gan.test_trackers))
