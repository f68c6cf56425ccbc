"""The private Keras and TensorFlow attributes kcolor relies on, in one place.

Where Keras 3 or `tf.distribute` has a public way, kcolor's GAN uses it (for example
`optimizer.finalize_variable_values` to put the averaged weights into the generator). Three things have no public
way; each is wrapped here, named for what it does, and tested (tests/test_gan_keras_internals.py), so that a Keras
or TensorFlow release that renames one fails one small test instead of a training run:

- reading an optimizer's moving averages of the weights (`use_ema=True`), to save or compare them;
- telling whether a `MultiWorkerMirroredStrategy` spans several workers;
- the name of the hook through which `Model.fit` on TensorFlow builds a model symbolically before training
  (`SKIP_SYMBOLIC_BUILD_HOOK`; `ColorizationGAN` overrides it; Keras's JAX trainer has no such step).

Checked against Keras 3.13.2, 3.15.1 and TensorFlow 2.20, 2.21.
"""

import keras

SKIP_SYMBOLIC_BUILD_HOOK = "_maybe_symbolic_build"
"""The method Keras's TensorFlow trainer calls in `fit` and `evaluate` to build a model on one batch first."""


def moving_averages(optimizer):
    """The moving averages of the weights an optimizer built with `use_ema=True` keeps, or None.

    Args:
        optimizer: A Keras optimizer, or a `keras.optimizers.LossScaleOptimizer` around one.

    Returns:
        A list of variables in the order of the variables the optimizer was built with, or None when the optimizer
        averages nothing.
    """
    if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        optimizer = optimizer.inner_optimizer
    if optimizer is None or not optimizer.use_ema:
        return None
    return optimizer._model_variables_moving_average


def spans_several_workers(strategy):
    """Whether a `tf.distribute` strategy is a `MultiWorkerMirroredStrategy` in a cluster of several workers.

    A `MultiWorkerMirroredStrategy` made without a cluster (no `TF_CONFIG`) runs on one worker like a
    `MirroredStrategy`; Keras reduces logged values across workers only when there are several.
    """
    import tensorflow as tf

    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return False
    return bool(strategy.extended._in_multi_worker_mode())
