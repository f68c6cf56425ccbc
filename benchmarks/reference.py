"""The reference train step: the TensorFlow pix2pix tutorial's way, on kcolor's networks.

Written the way https://www.tensorflow.org/tutorials/generative/pix2pix writes it: one `tf.function` (no XLA),
float32, two `tf.GradientTape`s recording one generator forward and two discriminator forwards (real, fake),
and a *simultaneous* update of both networks from those same forwards. Same U-Net and PatchGAN as kcolor (built
by `kcolor.models`), same batch of uint8 RGB images, converted to L*a*b* inside the step with `kcolor.color`
(the tutorial normalises in its input pipeline; here both contenders pay for the conversion in the step), and
the same losses (non-saturating BCE + 100 x L1; one-sided label smoothing 0.9 on D's real targets).

TensorFlow only; it lives in `benchmarks/` and nothing in `kcolor` imports it.
"""

import tensorflow as tf

from kcolor.color import rgb_to_model_inputs
from kcolor.gan.losses import discriminator_loss, generator_loss


class ReferenceTrainer:
    """The tutorial-style trainer of a generator and a discriminator (both `keras.Model`s).

    Example:

    ```python
    trainer = ReferenceTrainer(build_generator(width_multiplier=0.25), build_discriminator(width_multiplier=0.25))
    losses = trainer.train_step(tf.constant(uint8_batch))   # {"g_loss": ..., "d_loss": ...}
    ```
    """

    def __init__(self, generator, discriminator, l1_weight=100.0, label_smoothing=0.9):
        import keras

        self.generator = generator
        self.discriminator = discriminator
        self.generator_optimizer = keras.optimizers.Adam(2e-4, beta_1=0.5)
        self.discriminator_optimizer = keras.optimizers.Adam(2e-4, beta_1=0.5)
        self.l1_weight = l1_weight
        self.label_smoothing = label_smoothing
        self.train_step = tf.function(self._train_step, jit_compile=False)

    def _train_step(self, images):
        lightness, true_ab = rgb_to_model_inputs(images)
        with tf.GradientTape() as gen_tape, tf.GradientTape() as disc_tape:
            gen_output = self.generator(lightness, training=True)
            disc_real_output = self.discriminator([lightness, true_ab], training=True)
            disc_generated_output = self.discriminator([lightness, gen_output], training=True)
            gen_total_loss, _, _ = generator_loss(disc_generated_output, true_ab, gen_output, self.l1_weight)
            disc_loss = discriminator_loss(disc_real_output, disc_generated_output, self.label_smoothing)
        generator_gradients = gen_tape.gradient(gen_total_loss, self.generator.trainable_variables)
        discriminator_gradients = disc_tape.gradient(disc_loss, self.discriminator.trainable_variables)
        self.generator_optimizer.apply_gradients(zip(generator_gradients, self.generator.trainable_variables))
        self.discriminator_optimizer.apply_gradients(
            zip(discriminator_gradients, self.discriminator.trainable_variables)
        )
        return {"g_loss": gen_total_loss, "d_loss": disc_loss}
