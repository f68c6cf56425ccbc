"""One optimizer object that carries the generator's and the discriminator's optimizers.

Keras trainers know one `model.optimizer`. A GAN has two, and on the JAX backend that matters: the trainer
threads `model.optimizer.variables` through the jitted, stateless train step and writes them back after
`fit`; an optimizer that only the model holds as an attribute would be read as a constant inside the step, so
its Adam moments and step counter would silently never advance. `GANOptimizer` wraps both optimizers (in the
spirit of Keras's `LossScaleOptimizer`, which wraps one) and exposes their variables as one list: the
generator optimizer's first, then the discriminator optimizer's. The train steps split that list again.
"""

import keras


class GANOptimizer(keras.optimizers.Optimizer):
    """Composite of a generator optimizer and an optional discriminator optimizer.

    It never applies gradients itself: each backend's train step calls the inner optimizers. Both inner
    optimizers must be built (on their own model's trainable variables) before `build` is called.

    Args:
        generator_optimizer: Built `keras.optimizers.Optimizer` for the generator.
        discriminator_optimizer: Built optimizer for the discriminator, or `None` (L1-only training).
        name: Optimizer name.
    """

    def __init__(self, generator_optimizer, discriminator_optimizer=None, name="gan_optimizer", **kwargs):
        super().__init__(learning_rate=0.0, name=name, **kwargs)
        self.generator_optimizer = generator_optimizer
        self.discriminator_optimizer = discriminator_optimizer

    @property
    def inner_optimizers(self):
        return [o for o in (self.generator_optimizer, self.discriminator_optimizer) if o is not None]

    def build(self, var_list):
        # The model-level variable list is ignored: each inner optimizer is built on its own model's variables.
        for optimizer in self.inner_optimizers:
            if not optimizer.built:
                raise ValueError(
                    f"Build {optimizer.name} on its model's trainable variables before building GANOptimizer "
                    "(ColorizationGAN.compile does this)."
                )
        super().build([])

    @property
    def variables(self):
        return [v for optimizer in self.inner_optimizers for v in optimizer.variables]

    @property
    def generator_variable_count(self):
        """Number of leading entries of `variables` that belong to the generator optimizer."""
        return len(self.generator_optimizer.variables)

    @property
    def iterations(self):
        return self.generator_optimizer.iterations

    @property
    def learning_rate(self):
        return self.generator_optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, learning_rate):
        raise AttributeError(
            "GANOptimizer has no learning rate of its own: set generator_optimizer.learning_rate or "
            "discriminator_optimizer.learning_rate instead."
        )

    def apply(self, grads, trainable_variables=None):
        raise NotImplementedError("GANOptimizer only carries state; apply the inner optimizers.")

    def stateless_apply(self, optimizer_variables, grads, trainable_variables):
        raise NotImplementedError("GANOptimizer only carries state; apply the inner optimizers.")

    def finalize_variable_values(self, var_list):
        """Leaves the networks' weights as trained at the end of `fit` (Keras would swap in EMA weights here).

        A generator optimizer with `use_ema=True` keeps a moving average of the generator's weights;
        `ColorizationGAN.averaged_generator()` applies it where it is wanted (saving, sampling, the end of
        `kcolor.training.train`), so that a second `fit` (e.g. after a resume) continues from the trained weights.
        """

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "generator_optimizer": keras.saving.serialize_keras_object(self.generator_optimizer),
                "discriminator_optimizer": keras.saving.serialize_keras_object(self.discriminator_optimizer),
            }
        )
        config.pop("learning_rate", None)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        for key in ("generator_optimizer", "discriminator_optimizer"):
            config[key] = keras.saving.deserialize_keras_object(config[key], custom_objects=custom_objects)
        return cls(**config)
