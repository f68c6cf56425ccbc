"""`ColorizationGAN`'s train and test steps for the JAX backend: stateless calls and `jax.value_and_grad`.

Keras's JAX trainer runs `train_step(state, data)` as a pure function of
`state = (trainable, non_trainable, optimizer, metrics)` variable values. This module maps the model-level
lists onto the generator and the discriminator by variable identity, differentiates each network's loss with
respect to its own trainable values only, applies each optimizer with `stateless_apply` to its slice of the
`GANOptimizer` variables (generator's first), and carries every non-trainable value (batch-norm statistics,
dropout seeds) that a `stateless_call` returns. Nothing is read from a variable inside the step: a value that
did not travel through `state` would be frozen into the compiled step as a constant.

As in the TensorFlow step, one generator forward serves the discriminator update and the first generator
update: `jax.vjp` keeps the forward's pullback, D is updated on the (stop-gradient) output, and G's loss is
then differentiated with respect to G's *output* through D's freshly updated weights and pulled back to G's
weights. Under `keras.distribution.DataParallel` the step is one global computation over the sharded batch
(means, batch-norm statistics and gradients are over the global batch), so nothing here changes.
"""

import jax
import keras

from kcolor.color import rgb_to_model_inputs
from kcolor.gan.losses import discriminator_accuracy, discriminator_loss, generator_loss


class _Values:
    """The values of one sub-model's variables, picked out of (and written back into) the model's lists."""

    def __init__(self, model_variables, sub_variables, values):
        position = {id(variable): index for index, variable in enumerate(model_variables)}
        self.indices = [position[id(variable)] for variable in sub_variables]
        self.values = [values[index] for index in self.indices]

    def write_into(self, values):
        values = list(values)
        for index, value in zip(self.indices, self.values):
            values[index] = value
        return values


def _scaled(optimizer, optimizer_values, loss):
    """`optimizer.scale_loss(loss)` with the loss scale read from `optimizer_values` (mixed_float16)."""
    with keras.StatelessScope(state_mapping=list(zip(optimizer.variables, optimizer_values))):
        return optimizer.scale_loss(loss)


def train_step(gan, state, data):
    trainable, non_trainable, optimizer_values, metrics_values = state
    images = gan.images_from_data(data)
    lightness, true_ab = rgb_to_model_inputs(images)
    generator, discriminator = gan.generator, gan.discriminator
    split = gan.optimizer.generator_variable_count
    g_optimizer_values, d_optimizer_values = list(optimizer_values[:split]), list(optimizer_values[split:])
    g_train = _Values(gan.trainable_variables, generator.trainable_variables, trainable)
    g_state = _Values(gan.non_trainable_variables, generator.non_trainable_variables, non_trainable)
    d_non_trainable = None
    values = {}

    def generator_forward(g_trainable):
        predicted_ab, g_non_trainable = generator.stateless_call(
            g_trainable, g_state.values, lightness, training=True
        )
        return predicted_ab, g_non_trainable

    def head_loss_fn(predicted_ab, d_non_trainable):
        """G's loss as a function of G's output (through the discriminator's freshly updated weights)."""
        fake_logits = None
        if gan.adversarial:
            fake_logits, d_non_trainable = discriminator.stateless_call(
                d_train.values, d_non_trainable, [lightness, predicted_ab], training=True
            )
        loss, adversarial, l1 = generator_loss(
            fake_logits, true_ab, predicted_ab, gan.l1_weight, gan.chroma_weight, gan.chroma_penalty
        )
        scaled = _scaled(gan.generator_optimizer, g_optimizer_values, loss)
        return scaled, (loss, adversarial, l1, d_non_trainable)

    # The first generator forward also feeds the discriminator update (D's update leaves G unchanged), and its
    # VJP is kept for the first generator update: one generator forward less per batch.
    predicted_ab, generator_vjp, g_state.values = jax.vjp(generator_forward, g_train.values, has_aux=True)

    if gan.adversarial:
        d_train = _Values(gan.trainable_variables, discriminator.trainable_variables, trainable)
        d_state = _Values(gan.non_trainable_variables, discriminator.non_trainable_variables, non_trainable)
        fake_ab = jax.lax.stop_gradient(predicted_ab)

        def d_loss_fn(d_trainable, d_non_trainable):
            real_logits, d_non_trainable = discriminator.stateless_call(
                d_trainable, d_non_trainable, [lightness, true_ab], training=True
            )
            fake_logits, d_non_trainable = discriminator.stateless_call(
                d_trainable, d_non_trainable, [lightness, fake_ab], training=True
            )
            loss = discriminator_loss(real_logits, fake_logits, gan.label_smoothing)
            scaled = _scaled(gan.discriminator_optimizer, d_optimizer_values, loss)
            return scaled, (loss, d_non_trainable, real_logits, fake_logits)

        (_, (d_loss, d_non_trainable, real_logits, fake_logits)), gradients = jax.value_and_grad(
            d_loss_fn, has_aux=True
        )(d_train.values, d_state.values)
        d_train.values, d_optimizer_values = gan.discriminator_optimizer.stateless_apply(
            d_optimizer_values, gradients, d_train.values
        )
        values["d_loss"] = d_loss
        values["d_real_accuracy"], values["d_fake_accuracy"] = discriminator_accuracy(real_logits, fake_logits)

    for step in range(gan.generator_steps):
        if step > 0:  # G has changed: a fresh forward
            predicted_ab, generator_vjp, g_state.values = jax.vjp(generator_forward, g_train.values, has_aux=True)
        (_, (g_loss, adversarial, l1, d_non_trainable)), output_gradient = jax.value_and_grad(
            head_loss_fn, has_aux=True
        )(predicted_ab, d_non_trainable)
        (gradients,) = generator_vjp(output_gradient)
        g_train.values, g_optimizer_values = gan.generator_optimizer.stateless_apply(
            g_optimizer_values, gradients, g_train.values
        )
    values["g_loss"], values["g_l1"] = g_loss, l1

    trainable = g_train.write_into(trainable)
    non_trainable = g_state.write_into(non_trainable)
    if gan.adversarial:
        values["g_adversarial"] = adversarial
        d_state.values = d_non_trainable
        trainable = d_train.write_into(trainable)
        non_trainable = d_state.write_into(non_trainable)
    logs, metrics_values = gan.stateless_update_trackers(metrics_values, values, gan.train_trackers)
    return logs, (trainable, non_trainable, g_optimizer_values + d_optimizer_values, metrics_values)


def test_step(gan, state, data):
    trainable, non_trainable, metrics_values = state
    images = gan.images_from_data(data)
    lightness, true_ab = rgb_to_model_inputs(images)
    g_train = _Values(gan.trainable_variables, gan.generator.trainable_variables, trainable)
    g_state = _Values(gan.non_trainable_variables, gan.generator.non_trainable_variables, non_trainable)
    predicted_ab, _ = gan.generator.stateless_call(g_train.values, g_state.values, lightness, training=False)
    logs, metrics_values = gan.stateless_update_trackers(
        metrics_values, gan.test_values(images, predicted_ab, lightness, true_ab), gan.test_trackers
    )
    return logs, (trainable, non_trainable, metrics_values)
