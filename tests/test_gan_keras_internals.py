"""The private Keras and TensorFlow attributes of kcolor.gan.keras_internals still exist and mean what kcolor uses."""

import keras
import numpy as np
import pytest

from kcolor.gan import keras_internals


def _built_optimizer(**options):
    variable = keras.Variable(np.ones((2,), "float32"))
    optimizer = keras.optimizers.SGD(learning_rate=0.5, **options)
    optimizer.build([variable])
    return optimizer, variable


def test_moving_averages_follow_the_weights_and_finalize_puts_them_in():
    optimizer, variable = _built_optimizer(use_ema=True, ema_momentum=0.5, ema_overwrite_frequency=None)
    optimizer.apply([keras.ops.ones((2,))], [variable])  # weight 1 -> 0.5
    averages = keras_internals.moving_averages(optimizer)
    assert len(averages) == 1
    # Keras starts the average at the first step's weights (0.5), then 0.5 * average + 0.5 * weights.
    optimizer.apply([keras.ops.ones((2,))], [variable])  # weight 0.5 -> 0
    np.testing.assert_allclose(keras.ops.convert_to_numpy(averages[0]), [0.25, 0.25])
    optimizer.finalize_variable_values([variable])  # the public way kcolor puts the average into the generator
    np.testing.assert_allclose(keras.ops.convert_to_numpy(variable), [0.25, 0.25])


def test_no_moving_averages_without_ema_and_through_a_loss_scale_optimizer():
    optimizer, _ = _built_optimizer()
    assert keras_internals.moving_averages(optimizer) is None
    assert keras_internals.moving_averages(None) is None
    averaging, _ = _built_optimizer(use_ema=True)
    wrapped = keras.optimizers.LossScaleOptimizer(averaging)
    assert keras_internals.moving_averages(wrapped) is averaging._model_variables_moving_average


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="a hook of Keras's TensorFlow trainer")
def test_fit_builds_through_the_hook_that_colorization_gan_overrides():
    calls = []

    class Recording(keras.Model):
        def _maybe_symbolic_build(self, *args, **kwargs):
            calls.append(keras_internals.SKIP_SYMBOLIC_BUILD_HOOK)
            return super()._maybe_symbolic_build(*args, **kwargs)

    assert hasattr(keras.Model, keras_internals.SKIP_SYMBOLIC_BUILD_HOOK)
    inputs = keras.Input((3,))
    model = Recording(inputs, keras.layers.Dense(1)(inputs))
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.zeros((4, 3), "float32"), np.zeros((4, 1), "float32"), epochs=1, verbose=0)
    assert calls, "Model.fit no longer builds through _maybe_symbolic_build: ColorizationGAN's override is dead"


def test_one_worker_is_not_several():
    tf = pytest.importorskip("tensorflow")
    from tensorflow.python.distribute.collective_all_reduce_strategy import CollectiveAllReduceExtended

    assert not keras_internals.spans_several_workers(tf.distribute.get_strategy())
    assert callable(getattr(CollectiveAllReduceExtended, "_in_multi_worker_mode", None))
