"""`ColorizationGAN`'s train and test steps for the TensorFlow backend: two `tf.GradientTape`s.

Keras compiles these into one `tf.function` (XLA when `jit_compile=True`); the Python loop over generator
updates is unrolled at trace time.
"""

import tensorflow as tf

from kcolor.color import rgb_to_model_inputs
from kcolor.gan.losses import discriminator_accuracy, discriminator_loss, generator_loss


def _apply(optimizer, tape, scaled_loss, variables):
    optimizer.apply(tape.gradient(scaled_loss, variables), variables)


def train_step(gan, data):
    images = gan.images_from_data(data)
    lightness, true_ab = rgb_to_model_inputs(images)
    generator, discriminator = gan.generator, gan.discriminator
    values = {}

    if not gan.l1_only:
        fake_ab = tf.stop_gradient(generator(lightness, training=True))
        with tf.GradientTape() as tape:
            real_logits = discriminator([lightness, true_ab], training=True)
            fake_logits = discriminator([lightness, fake_ab], training=True)
            d_loss = discriminator_loss(real_logits, fake_logits, gan.label_smoothing)
            scaled_loss = gan.discriminator_optimizer.scale_loss(d_loss)  # (mixed_float16 loss scaling)
        _apply(gan.discriminator_optimizer, tape, scaled_loss, discriminator.trainable_variables)
        values["d_loss"] = d_loss
        values["d_real_accuracy"], values["d_fake_accuracy"] = discriminator_accuracy(real_logits, fake_logits)

    for _ in range(gan.generator_steps):
        with tf.GradientTape() as tape:
            predicted_ab = generator(lightness, training=True)
            fake_logits = None if gan.l1_only else discriminator([lightness, predicted_ab], training=True)
            g_loss, adversarial, l1 = generator_loss(fake_logits, true_ab, predicted_ab, gan.l1_weight)
            scaled_loss = gan.generator_optimizer.scale_loss(g_loss)
        _apply(gan.generator_optimizer, tape, scaled_loss, generator.trainable_variables)
    values["g_loss"], values["g_l1"] = g_loss, l1
    if not gan.l1_only:
        values["g_adversarial"] = adversarial
    return gan.update_trackers(values)


def test_step(gan, data):
    images = gan.images_from_data(data)
    lightness, true_ab = rgb_to_model_inputs(images)
    predicted_ab = gan.generator(lightness, training=False)
    return gan.update_trackers(gan.test_values(images, predicted_ab, lightness, true_ab))
