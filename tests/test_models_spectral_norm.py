"""A spectrally normalised PatchGAN: the preset option, its layers, its bound, and a GAN step on both backends."""

import dataclasses

import keras
import numpy as np
import pytest

from kcolor.models import build_discriminator, get_preset

SPECTRAL_CIFAR = dataclasses.replace(get_preset("nazeri-cifar"), name="spectral-cifar", discriminator_spectral_norm=True)


def test_every_convolution_is_wrapped_and_batch_norm_is_gone():
    plain = build_discriminator("nazeri-cifar", width_multiplier=0.25)
    spectral = build_discriminator(SPECTRAL_CIFAR, width_multiplier=0.25)
    wrapped = [layer for layer in spectral.layers if isinstance(layer, keras.layers.SpectralNormalization)]
    convolutions = [layer for layer in plain.layers if isinstance(layer, keras.layers.Conv2D)]
    assert len(wrapped) == len(convolutions) and {layer.name for layer in wrapped} == {layer.name for layer in convolutions}
    assert not any(isinstance(layer, keras.layers.BatchNormalization) for layer in spectral.layers)
    inputs = [np.zeros((2, 32, 32, 1), np.float32), np.zeros((2, 32, 32, 2), np.float32)]
    assert spectral(inputs).shape == plain(inputs).shape == (2, 4, 4, 1)
    assert spectral.get_layer("logits").dtype == "float32"


def test_training_calls_hold_each_kernel_at_unit_spectral_norm():
    spectral = build_discriminator(SPECTRAL_CIFAR, width_multiplier=0.25)
    rng = np.random.default_rng(0)
    inputs = [rng.normal(size=(2, 32, 32, 1)).astype(np.float32), rng.normal(size=(2, 32, 32, 2)).astype(np.float32)]
    for _ in range(30):  # one power iteration per call: the estimate of the top singular value converges
        spectral(inputs, training=True)
    for layer in spectral.layers:
        if isinstance(layer, keras.layers.SpectralNormalization):
            kernel = keras.ops.convert_to_numpy(layer.layer.kernel)
            top = np.linalg.svd(kernel.reshape(-1, kernel.shape[-1]), compute_uv=False)[0]
            # 30 power iterations on a random 4x4 kernel matrix: within a few percent of the true top value
            assert top == pytest.approx(1.0, rel=0.05), layer.name


JAX_SPECTRAL_STEP = """
import dataclasses, numpy as np, keras
from kcolor.gan import ColorizationGAN
from kcolor.models import build_discriminator, build_generator, get_preset
preset = dataclasses.replace(get_preset("nazeri-cifar"), discriminator_spectral_norm=True)
gan = ColorizationGAN(build_generator("nazeri-cifar", width_multiplier=0.125), build_discriminator(preset, width_multiplier=0.125))
gan.compile(generator_optimizer=keras.optimizers.Adam(2e-4), discriminator_optimizer=keras.optimizers.Adam(2e-4))
images = np.random.default_rng(0).integers(0, 256, (4, 32, 32, 3)).astype("uint8")
history = gan.fit(images, batch_size=4, epochs=2, verbose=0).history
assert all(np.isfinite(value) for values in history.values() for value in values), history
print("d_loss", history["d_loss"][-1])
"""


@pytest.mark.parametrize("backend", ["tensorflow", "jax"])
def test_a_gan_with_a_spectral_discriminator_trains_on_each_backend(run_python, backend):
    result = run_python(JAX_SPECTRAL_STEP, backend=backend, block_tensorflow=backend == "jax")
    assert "d_loss" in result.stdout
