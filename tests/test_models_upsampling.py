"""The photo preset's resize-convolution decoder, and the checkerboard measure that motivates it."""

import numpy as np
import pytest

from kcolor.color import model_outputs_to_rgb
from kcolor.evaluation import evaluate_predictions
from kcolor.evaluation.artifacts import checkerboard_energy
from kcolor.models import build_discriminator, build_generator, get_preset
from kcolor.models.generator import upsampling_block


def lab_image(ab_function, size=16):
    """uint8 RGB of L* = 60 and a*, b* = ab_function(y, x)."""
    from skimage import color

    y, x = np.mgrid[0:size, 0:size].astype(np.float32)
    a, b = ab_function(y, x)
    lab = np.stack([np.full_like(y, 60.0), a, b], axis=-1)
    return np.round(np.clip(color.lab2rgb(lab), 0, 1) * 255).astype(np.uint8)[None]


def test_checkerboard_energy_is_the_amplitude_of_a_2_pixel_pattern_and_small_for_smooth_color():
    gray = lab_image(lambda y, x: (0 * y, 0 * x))
    smooth = lab_image(lambda y, x: (2.0 * x - 16, 1.5 * y - 12))
    checker = lab_image(lambda y, x: (8.0 * (-1) ** (y + x), 0 * x))
    assert checkerboard_energy(gray)[0] < 0.3
    assert checkerboard_energy(smooth)[0] < 0.3
    assert checkerboard_energy(checker)[0] == pytest.approx(8.0, rel=0.1)
    report = evaluate_predictions(smooth, {"checker": checker}, metrics=("checkerboard",), verbose=False)
    assert report.overall["checker"]["checkerboard"] > 20 * report.overall["ground truth"]["checkerboard"]


def smooth_lightness(size=64):
    y, x = np.mgrid[0:size, 0:size].astype(np.float32) / size
    return (0.8 * np.sin(3 * x + 2 * y))[None, ..., None]  # normalised L* in [-1, 1]


def diagonal_share(outputs):
    """Share of the variation of `(1, H, W, C)` outputs that alternates on the 2x2 grid."""
    values = np.asarray(outputs)[0]
    detail = (values[0::2, 0::2] - values[0::2, 1::2] - values[1::2, 0::2] + values[1::2, 1::2]) / 4
    return float(np.sqrt(np.mean(detail**2)) / (np.std(values) + 1e-12))


def test_the_resize_block_does_not_print_the_transposed_convolutions_checkerboard():
    import keras

    y, x = np.mgrid[0:16, 0:16].astype(np.float32) / 16
    smooth_features = np.stack([np.sin(3 * x + k * y + k) for k in range(8)], axis=-1)[None]  # (1, 16, 16, 8)
    shares = {}
    for kind in ("transpose", "resize"):
        keras.utils.set_random_seed(0)
        features = keras.Input((16, 16, 8))
        block = keras.Model(features, upsampling_block(features, 8, kind, name="decoder_0"))
        shares[kind] = diagonal_share(block(smooth_features))
    # Random 4x4 stride-2 transposed convolution: each output parity sums other taps, so a smooth input comes
    # out alternating. Bilinear resize + 3x3 convolution applies one kernel everywhere: smooth in, smooth out.
    assert shares["resize"] < 0.05 and shares["transpose"] > 0.3, shares


def test_the_photo_preset_builds_at_128_px_and_names_its_layers():
    preset = get_preset("photo-128")
    assert (preset.image_size, preset.batch_size, preset.size_multiple, preset.upsampling) == (128, 16, 64, "resize")
    generator = build_generator("photo-128", width_multiplier=0.125, image_size=128)
    assert generator.output_shape == (None, 128, 128, 2)
    assert generator.get_layer("decoder_0_resize") is not None and generator.get_layer("decoder_0_conv").kernel_size == (3, 3)
    logits = build_discriminator("photo-128", width_multiplier=0.125)([np.zeros((1, 128, 128, 1)), np.zeros((1, 128, 128, 2))])
    assert logits.shape == (1, 14, 14, 1)  # symmetric padding: two stride-1 layers each drop a row and column
    with pytest.raises(ValueError, match="fit preset 'photo-128'"):
        build_generator("photo-128", image_size=96)


def test_an_unknown_upsampling_kind_is_a_clear_error():
    import keras

    with pytest.raises(ValueError, match="Unknown upsampling 'pixelshuffle'"):
        upsampling_block(keras.Input((4, 4, 8)), 8, "pixelshuffle", name="decoder_0")


def test_model_outputs_of_a_resize_generator_are_valid_rgb():
    generator = build_generator("photo-128", width_multiplier=0.125)
    lightness = smooth_lightness()
    rgb = np.asarray(model_outputs_to_rgb(lightness, generator(lightness)))
    assert rgb.shape == (1, 64, 64, 3) and 0 <= rgb.min() and rgb.max() <= 1


def with_averaging_kernels(model):
    """`model` with every kernel set to average its inputs: mirror-symmetric weights, so only padding breaks symmetry."""
    for layer in model.layers:
        if hasattr(layer, "kernel"):
            layer.kernel.assign(np.ones(layer.kernel.shape, "float32") / np.prod(layer.kernel.shape[:3]))
    return model


def border_map(padding):
    """Logits of a discriminator whose kernels average their inputs, for a constant input: what the borders do."""
    import dataclasses

    preset = dataclasses.replace(get_preset("photo-128"), discriminator_padding=padding)
    discriminator = with_averaging_kernels(build_discriminator(preset, width_multiplier=1 / 64))
    return np.asarray(discriminator([np.ones((1, 64, 64, 1)), np.ones((1, 64, 64, 2))], training=False))[0, ..., 0]


def test_the_symmetric_discriminator_treats_all_four_edges_alike():
    symmetric, same = border_map("symmetric"), border_map("same")
    assert symmetric.shape == (6, 6) and same.shape == (8, 8)  # stride-1 layers lose a row and column each
    np.testing.assert_allclose(symmetric, symmetric[::-1, ::-1], rtol=1e-5)  # top-left edge = bottom-right edge
    assert not np.allclose(same, same[::-1, ::-1], rtol=1e-3)  # Keras's "same" pads bottom/right more


def test_an_unknown_padding_is_a_clear_error():
    import keras

    from kcolor.models.blocks import conv_block

    with pytest.raises(ValueError, match="Unknown padding 'mirror'"):
        conv_block(keras.Input((8, 8, 3)), 4, 2, normalize=False, batch_norm_momentum=0.9, name="b", padding="mirror")


def generator_border_map(stem_kernel):
    """a*b* of a photo-128 generator whose kernels all average their inputs, for a constant input."""
    import dataclasses

    preset = dataclasses.replace(get_preset("photo-128"), encoder_stem_kernel=stem_kernel)
    generator = with_averaging_kernels(build_generator(preset, width_multiplier=1 / 16))
    return np.asarray(generator(np.full((1, 64, 64, 1), 0.5, "float32"), training=False))[0]


def test_the_photo_generator_treats_all_four_edges_alike():
    assert get_preset("photo-128").encoder_stem_kernel == 3
    symmetric, same = generator_border_map(3), generator_border_map(4)
    assert symmetric.shape == same.shape == (64, 64, 2)
    # Every layer of the generator (3x3 stem, 4x4 stride-2 convolutions on even sizes, bilinear resize, 3x3 and 1x1
    # convolutions) pads alike on every side, so a 180-degree turn of the input turns the output: float32 rounding
    # of sums of a few thousand terms of order 1 stays far below 1e-4 relative.
    np.testing.assert_allclose(symmetric, symmetric[::-1, ::-1], rtol=1e-4, atol=1e-6)
    # A 4x4 stride-1 stem under Keras's "same" padding sees 2 pixels of zeros past the bottom and right edges.
    assert not np.allclose(same, same[::-1, ::-1], rtol=1e-3, atol=1e-5)
