"""The PatchGAN discriminator, conditioned on the grayscale image.

The discriminator plays D(x | z) of the conditional GAN: it sees the color channels x (a*b*) *and* the
condition z (the lightness), concatenated, and outputs one logit per overlapping patch of the image (a
PatchGAN, Isola et al. 2017) rather than one number per image: it judges whether each local region's
colors are plausible for that region's gray values, which is what colorization needs.
"""

import keras
from keras import layers

from kcolor.models.blocks import conv_block, convolution
from kcolor.models.presets import get_preset, scale_filters


def build_discriminator(
    preset="nazeri-cifar", *, width_multiplier=1.0, image_size=None, batch_norm_momentum=0.9, name="discriminator"
):
    """Builds the conditional PatchGAN discriminator of a preset.

    Args:
        preset: A preset name or `Preset`; its `discriminator` blocks are `(filters, stride)` 4x4
            convolutions (the first without normalization), followed by a 4x4 convolution to 1 channel. With
            its `discriminator_spectral_norm`, every convolution is spectrally normalised and none batch-normalised.
        width_multiplier: Scales the filters of every block.
        image_size: Optional fixed square input size (`None`: any size).
        batch_norm_momentum: Momentum of the batch-norm moving statistics (as for the generator).
        name: Model name.

    Returns:
        A functional `keras.Model` taking `[lightness (batch, H, W, 1), ab (batch, H, W, 2)]` (normalised) and
        returning float32 logits `(batch, H / s, W / s, 1)`, `s` the product of the block strides (with the
        preset's `discriminator_padding="symmetric"`, one row and column fewer per stride-1 layer): the
        un-squashed log-odds that each patch's colors are real.

    Example:

    ```python
    discriminator = build_discriminator("nazeri-cifar", width_multiplier=0.25)
    logits = discriminator([np.zeros((1, 32, 32, 1)), np.zeros((1, 32, 32, 2))])   # (1, 4, 4, 1)
    ```
    """
    preset = get_preset(preset)
    lightness = keras.Input(shape=(image_size, image_size, 1), name="lightness")
    ab = keras.Input(shape=(image_size, image_size, 2), name="ab")
    x = layers.Concatenate(name="condition")([lightness, ab])  # (batch, H, W, 3)
    for index, (filters, stride) in enumerate(preset.discriminator):
        x = conv_block(
            x,
            scale_filters(filters, width_multiplier),
            stride,
            normalize=index > 0,  # no normalization on the first block, as in pix2pix
            batch_norm_momentum=batch_norm_momentum,
            name=f"block_{index}",
            padding=preset.discriminator_padding,
            spectral_norm=preset.discriminator_spectral_norm,
        )
    if preset.discriminator_padding == "symmetric":
        x = layers.ZeroPadding2D(1, name="logits_pad")(x)
    logits = convolution(
        1,
        4,
        name="logits",
        spectral_norm=preset.discriminator_spectral_norm,
        dtype="float32",
        padding="same" if preset.discriminator_padding == "same" else "valid",
    )(x)  # (batch, patches_y, patches_x, 1)
    return keras.Model([lightness, ab], logits, name=name)
