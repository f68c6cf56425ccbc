import keras
import numpy as np
import pytest

from kcolor.models import PRESETS, build_discriminator, build_generator, generator_size_multiple, get_preset


@pytest.mark.parametrize(
    "preset, size, width, patches",
    [("nazeri-cifar", 32, 0.125, 4), ("nazeri-places", 256, 1 / 32, 32), ("pix2pix", 256, 1 / 32, 32)],
)
def test_output_shapes_for_each_preset(preset, size, width, patches):
    generator = build_generator(preset, width_multiplier=width)
    discriminator = build_discriminator(preset, width_multiplier=width)
    lightness = np.zeros((2, size, size, 1), np.float32)
    ab = generator(lightness)
    assert tuple(ab.shape) == (2, size, size, 2)
    assert np.abs(keras.ops.convert_to_numpy(ab)).max() <= 1.0  # tanh
    logits = discriminator([keras.ops.convert_to_tensor(lightness), ab])
    assert tuple(logits.shape) == (2, patches, patches, 1)


def test_nazeri_cifar_matches_the_paper_blocks():
    generator = build_generator("nazeri-cifar")
    convs = [layer for layer in generator.layers if layer.name.startswith("encoder_") and layer.name.endswith("conv")]
    assert [(c.filters, c.strides[0], c.kernel_size[0]) for c in convs] == [
        (64, 1, 4), (128, 2, 4), (256, 2, 4), (512, 2, 4), (512, 2, 4)
    ]
    assert "encoder_0_norm" not in [layer.name for layer in generator.layers]
    assert generator.get_layer("ab").kernel_size == (1, 1)
    assert generator.get_layer("ab").activation.__name__ == "tanh"
    assert generator.get_layer("decoder_0_dropout").rate == 0.5
    discriminator = build_discriminator("nazeri-cifar")
    convs = [layer for layer in discriminator.layers if isinstance(layer, keras.layers.Conv2D)]
    assert [(c.filters, c.strides[0]) for c in convs] == [(64, 2), (128, 2), (256, 2), (512, 1), (1, 1)]
    assert [i.name for i in discriminator.inputs] == ["lightness", "ab"]


def test_fully_convolutional_any_valid_size():
    generator = build_generator("nazeri-cifar", width_multiplier=0.125)
    assert generator_size_multiple(generator) == 16
    assert tuple(generator(np.zeros((1, 48, 80, 1), np.float32)).shape) == (1, 48, 80, 2)


def test_invalid_image_size_is_explained():
    with pytest.raises(ValueError, match="multiples of 16"):
        build_generator("nazeri-cifar", image_size=40)


def test_unknown_preset_suggests_a_close_name():
    with pytest.raises(ValueError, match="nazeri-cifar"):
        get_preset("nazeri-cifr")


def test_width_multiplier_scales_filters():
    small = build_generator("nazeri-cifar", width_multiplier=0.25)
    assert small.get_layer("encoder_1_conv").filters == 32
    with pytest.raises(ValueError, match="positive"):
        build_generator("nazeri-cifar", width_multiplier=0)


def test_presets_have_the_recipe_batch_sizes():
    # nazeri-cifar trains at batch 32 (the paper: 128; docs/RESULTS.md), the 256 px presets at the paper's 16
    assert (PRESETS["nazeri-cifar"].image_size, PRESETS["nazeri-cifar"].batch_size) == (32, 32)
    assert (PRESETS["nazeri-places"].image_size, PRESETS["nazeri-places"].batch_size) == (256, 16)


@pytest.mark.parametrize("builder", [build_generator, build_discriminator])
def test_config_round_trip(builder):
    model = builder("nazeri-cifar", width_multiplier=0.125)
    clone = keras.Model.from_config(model.get_config())
    assert [layer.name for layer in clone.layers] == [layer.name for layer in model.layers]
    assert clone.count_params() == model.count_params()
    clone.set_weights(model.get_weights())
    inputs = [np.random.default_rng(0).normal(size=(1, 32, 32, c)).astype(np.float32) for c in (1, 2)]
    inputs = inputs[0] if builder is build_generator else inputs
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(clone(inputs)), keras.ops.convert_to_numpy(model(inputs)), atol=1e-6
    )
