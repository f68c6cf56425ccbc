"""`ColorizationGAN`: the conditional GAN as a `keras.Model` whose custom `train_step` runs under `fit`.

The model holds the U-Net generator and the PatchGAN discriminator and trains them against each other on
batches of **uint8 RGB images** — nothing else: each step converts the batch to L*a*b* on the device
(`kcolor.color`), feeds the lightness to the generator, and compares its ab with the true ab. One step runs one
discriminator update followed by `generator_steps` generator updates (the paper's code uses 1 + 2).

Without a discriminator the same model is the paper's baseline, a U-Net trained with L1 alone, so the
"U-Net vs GAN" comparison is one argument away. The gradient code is backend specific and lives in one small
module per backend (`tensorflow_steps`, `jax_steps`); losses, color conversion and metric trackers are shared.
"""

import contextlib

import keras
from keras import ops

from kcolor.color import model_outputs_to_rgb, rgb_to_model_inputs
from kcolor.gan.gan_optimizer import GANOptimizer
from kcolor.gan.keras_internals import moving_averages
from kcolor.gan.losses import CHROMA_PENALTIES

SUPPORTED_BACKENDS = ("tensorflow", "jax")

TRAIN_METRICS = ("d_loss", "g_loss", "g_adversarial", "g_l1", "d_real_accuracy", "d_fake_accuracy")
L1_ONLY_TRAIN_METRICS = ("g_loss", "g_l1")
TEST_METRICS = ("l1", "psnr")


def _backend_steps():
    backend = keras.backend.backend()
    if backend == "tensorflow":
        from kcolor.gan import tensorflow_steps

        return tensorflow_steps
    if backend == "jax":
        from kcolor.gan import jax_steps

        return jax_steps
    raise NotImplementedError(
        f"kcolor trains with the {' or '.join(SUPPORTED_BACKENDS)} Keras backend; this process uses "
        f"{backend!r}. Set KERAS_BACKEND=tensorflow or KERAS_BACKEND=jax before importing keras."
    )


def default_optimizer(learning_rate=2e-4, beta_1=0.5):
    """Adam with the pix2pix / DCGAN settings the paper starts from (lr 2e-4, beta_1 0.5)."""
    return keras.optimizers.Adam(learning_rate=learning_rate, beta_1=beta_1)


@keras.saving.register_keras_serializable(package="kcolor")
class ColorizationGAN(keras.Model):
    """Conditional GAN for colorization (Nazeri et al. 2018), trained with `fit` on uint8 RGB batches.

    Args:
        generator: Model mapping normalised lightness `(B, H, W, 1)` to normalised ab `(B, H, W, 2)`
            (see `kcolor.models.build_generator`).
        discriminator: Model mapping `[lightness, ab]` to patch logits, or `None` to train the L1-only
            U-Net baseline.
        **kwargs: Passed to `keras.Model`.

    Example:

    ```python
    gan = ColorizationGAN(build_generator(width_multiplier=0.25), build_discriminator(width_multiplier=0.25))
    gan.compile()
    gan.fit(uint8_rgb_batches, epochs=1)
    colorized = gan.predict(gray_or_rgb_images)   # float32 RGB in [0, 1]
    ```
    """

    def __init__(self, generator, discriminator=None, **kwargs):
        super().__init__(**kwargs)
        self.generator = generator
        self.discriminator = discriminator
        names = TRAIN_METRICS if discriminator is not None else L1_ONLY_TRAIN_METRICS
        self.train_trackers = [keras.metrics.Mean(name=name) for name in names]
        self.test_trackers = [keras.metrics.Mean(name=name) for name in TEST_METRICS]
        self._adversarial = discriminator is not None
        self._fitting = False
        # Both networks are functional models, built when created: so is the GAN (its weights can be loaded
        # before it has seen data, e.g. to resume training).
        self.built = generator.built and (discriminator is None or discriminator.built)

    @property
    def l1_only(self):
        """True when there is no discriminator: the model is the L1-only U-Net baseline."""
        return self.discriminator is None

    @property
    def adversarial(self):
        """Whether the train step plays the GAN game; False trains the generator with L1 alone.

        Set to False for an L1-only warm-up (DeOldify's "NoGAN" idea: the GAN starts from a trained U-Net
        instead of from noise): the train step is then the U-Net baseline's, and the discriminator is neither
        updated nor consulted, so it starts the adversarial phase untrained rather than already certain about
        the warm-up's dull colors. `kcolor.training.train` trains the warm-up and the game with two `fit` calls
        and sets this in between (docs/TRAINING.md).

        A change takes effect at the next `fit` (or `train_on_batch`), which traces the train step of the new
        phase; it cannot change while `fit` runs.

        Raises:
            ValueError: True for a model without a discriminator.
            RuntimeError: a change while `fit` runs (e.g. from a callback).

        Example:

        ```python
        gan.adversarial = False
        gan.fit(batches, epochs=warmup_epochs)  # L1 alone
        gan.adversarial = True
        gan.fit(batches, epochs=epochs, initial_epoch=warmup_epochs)  # the GAN game
        ```
        """
        return self.discriminator is not None and self._adversarial

    @adversarial.setter
    def adversarial(self, value):
        value = self._checked_phase(value)
        if value == self._adversarial:
            return
        if self._fitting:
            raise RuntimeError(
                "ColorizationGAN.adversarial cannot change while `fit` runs. Set it between two `fit` calls: "
                "`fit(epochs=warmup_epochs)`, then `gan.adversarial = True`, then "
                "`fit(epochs=epochs, initial_epoch=warmup_epochs)`, as kcolor.training.train does."
            )
        self._adversarial = value
        self.train_function = None  # as `compile` does: the next `fit` traces the step of the new phase

    def _checked_phase(self, adversarial):
        if adversarial and self.discriminator is None:
            raise ValueError("this model has no discriminator: it can only train with L1 (adversarial=False).")
        return bool(adversarial)

    def fit(self, *args, **kwargs):
        """`keras.Model.fit`, during which `adversarial` cannot change (see there)."""
        self._fitting = True
        try:
            return super().fit(*args, **kwargs)
        finally:
            self._fitting = False

    @property
    def generator_average(self):
        """The generator optimizer's moving averages of the generator's trainable weights (an optimizer built
        with `use_ema=True`), in `generator.trainable_variables` order; None without them."""
        return moving_averages(getattr(self, "generator_optimizer", None))

    @contextlib.contextmanager
    def averaged_generator(self):
        """Within the block, the generator holds the moving average of its weights (no change without one).

        Example:

        ```python
        with gan.averaged_generator():
            gan.generator.save("generator.keras")
        ```
        """
        if self.generator_average is None:
            yield self.generator
            return
        variables = self.generator.trainable_variables
        trained = [ops.copy(variable.value) for variable in variables]  # (a TensorFlow value is a reference)
        self.use_generator_average()
        try:
            yield self.generator
        finally:
            for variable, value in zip(variables, trained):
                variable.assign(value)

    def use_generator_average(self):
        """Puts the moving average of the generator's weights into the generator, for good.

        Returns:
            False (and changes nothing) when there is no average (see `generator_average`), else True.
        """
        if self.generator_average is None:
            return False
        self.generator_optimizer.finalize_variable_values(self.generator.trainable_variables)
        return True

    @property
    def metrics(self):
        return self.train_trackers + self.test_trackers

    def compile(
        self,
        generator_optimizer=None,
        discriminator_optimizer=None,
        *,
        l1_weight=100.0,
        chroma_weight=0.0,
        chroma_penalty="absolute",
        label_smoothing=0.9,
        generator_steps=1,
        jit_compile="auto",
        **kwargs,
    ):
        """Configures the two optimizers and the loss.

        Args:
            generator_optimizer: Optimizer for G; default Adam(2e-4, beta_1=0.5).
            discriminator_optimizer: Optimizer for D; same default. Ignored for the L1-only baseline.
            l1_weight: lambda in `adversarial + lambda * L1` (the paper uses 100).
            chroma_weight: Weight of an extra term on the chroma |ab| alone (`kcolor.gan.losses.chroma_loss`);
                0, the default, is the paper's loss.
            chroma_penalty: That term's penalty: `"absolute"` (the median amount of color) or `"squared"` (the
                mean amount, and a large excess charged quadratically).
            label_smoothing: Target for real patches in D's loss (one-sided smoothing; 1.0 disables it).
            generator_steps: Generator updates per discriminator update (the paper's code uses 2).
            jit_compile: Compile the train step with XLA: `True`, `False` or `"auto"` (default): on for JAX and
                for TensorFlow with an accelerator, off for TensorFlow on a CPU, where XLA is slower
                (`kcolor.devices.default_jit_compile`).
            **kwargs: Passed to `keras.Model.compile` (e.g. `steps_per_execution`, `run_eagerly`).
        """
        _backend_steps()  # fail early, with a clear message, on an unsupported backend
        if generator_steps < 1:
            raise ValueError(f"generator_steps must be at least 1, got {generator_steps}.")
        if not 0.0 < label_smoothing <= 1.0:
            raise ValueError(f"label_smoothing is the real target in (0, 1], got {label_smoothing}.")
        if l1_weight < 0:
            raise ValueError(f"l1_weight must be non-negative, got {l1_weight}.")
        if not 0 <= chroma_weight < float("inf"):
            raise ValueError(f"chroma_weight must be zero or a positive number, got {chroma_weight}.")
        if chroma_penalty not in CHROMA_PENALTIES:
            raise ValueError(f"chroma_penalty must be one of {', '.join(CHROMA_PENALTIES)}, got {chroma_penalty!r}.")
        if jit_compile == "auto":
            from kcolor.devices import default_jit_compile

            jit_compile = default_jit_compile()
        elif jit_compile not in (True, False):
            raise ValueError(f'jit_compile must be True, False or "auto", got {jit_compile!r}.')
        generator_optimizer = self._prepare_optimizer(generator_optimizer, self.generator)
        if not self.l1_only:
            discriminator_optimizer = self._prepare_optimizer(discriminator_optimizer, self.discriminator)
        else:
            discriminator_optimizer = None
        optimizer = GANOptimizer(generator_optimizer, discriminator_optimizer)
        optimizer.build([])
        super().compile(optimizer=optimizer, jit_compile=jit_compile, auto_scale_loss=False, **kwargs)
        self.generator_optimizer = generator_optimizer
        self.discriminator_optimizer = discriminator_optimizer
        self.l1_weight = float(l1_weight)
        self.chroma_weight = float(chroma_weight)
        self.chroma_penalty = chroma_penalty
        self.label_smoothing = float(label_smoothing)
        self.generator_steps = int(generator_steps)

    @staticmethod
    def _prepare_optimizer(optimizer, model):
        optimizer = default_optimizer() if optimizer is None else keras.optimizers.get(optimizer)
        policy = model.dtype_policy.name
        if policy == "mixed_float16" and not isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
            optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
        if not optimizer.built:
            optimizer.build(model.trainable_variables)
        return optimizer

    # ----------------------------------------------------------------------------------------------------
    # Shared pieces of every backend's steps.

    @staticmethod
    def images_from_data(data):
        """The uint8 RGB images of a `fit` batch (labels, if a dataset yields them, are ignored)."""
        images, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        if images.shape[-1] != 3:
            raise ValueError(
                f"ColorizationGAN trains on RGB batches shaped (batch, height, width, 3); got {images.shape}."
            )
        return images

    def stateless_update_trackers(self, metrics_values, values, logged):
        """Updates the trackers named in `values` from their slices of the flat `metrics_values`.

        Args:
            metrics_values: Values of `self.metrics_variables`.
            values: Tracker name to this step's value.
            logged: The trackers whose results the step logs (`train_trackers` or `test_trackers`: a train step
                logs every train tracker, so that the logged names stay the same through an L1-only warm-up).

        Returns:
            `(logs, new_metrics_values)`: results of the `logged` trackers, and all metric values.
        """
        logs, new_values, start, logged = {}, [], 0, {tracker.name for tracker in logged}
        for tracker in self.metrics:
            end = start + len(tracker.variables)
            current = list(metrics_values[start:end])
            if tracker.name in values:
                current = tracker.stateless_update_state(current, values[tracker.name])
            if tracker.name in logged:
                logs[tracker.name] = tracker.stateless_result(current)
            new_values.extend(current)
            start = end
        return logs, new_values

    def update_trackers(self, values, logged):
        """Stateful twin of `stateless_update_trackers` for the TensorFlow backend."""
        for tracker in self.metrics:
            if tracker.name in values:
                tracker.update_state(values[tracker.name])
        return {tracker.name: tracker.result() for tracker in logged}

    @staticmethod
    def test_values(images, predicted_ab, lightness, true_ab):
        """`test_step`'s metrics: L1 on normalised ab, and PSNR (dB) of the colorized RGB image."""
        from kcolor.gan.losses import batch_psnr, l1_loss

        predicted_rgb = model_outputs_to_rgb(lightness, predicted_ab)
        true_rgb = ops.cast(images, "float32") / 255.0
        return {"l1": l1_loss(true_ab, predicted_ab), "psnr": batch_psnr(true_rgb, predicted_rgb)}

    # ----------------------------------------------------------------------------------------------------
    # Keras entry points.

    def call(self, inputs, training=False):
        """Colorizes a batch: RGB (only its lightness is used) or gray images in, float32 RGB in [0, 1] out."""
        from kcolor.color import gray_to_model_input

        lightness = gray_to_model_input(inputs)
        ab = self.generator(lightness, training=training)
        return model_outputs_to_rgb(lightness, ab)

    def _maybe_symbolic_build(self, *args, **kwargs):  # kcolor.gan.keras_internals.SKIP_SYMBOLIC_BUILD_HOOK
        """Skips Keras's symbolic build before `fit` / `evaluate`: there is nothing left to build.

        Both networks are built when created and `compile` builds the optimizers; the model has no compiled loss
        or metrics. Under a `tf.distribute` strategy Keras would otherwise fetch a batch and average it across
        replicas to trace the model, and a multi-worker strategy's collective all-reduce has no uint8 kernel
        (our batches are uint8 images).
        """
        return

    def train_step(self, *args):
        return _backend_steps().train_step(self, *args)

    def test_step(self, *args):
        return _backend_steps().test_step(self, *args)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "generator": keras.saving.serialize_keras_object(self.generator),
                "discriminator": keras.saving.serialize_keras_object(self.discriminator),
            }
        )
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        generator = keras.saving.deserialize_keras_object(config.pop("generator"), custom_objects=custom_objects)
        discriminator = config.pop("discriminator")
        if discriminator is not None:
            discriminator = keras.saving.deserialize_keras_object(discriminator, custom_objects=custom_objects)
        return cls(generator, discriminator, **config)

