"""The downsampling block that the U-Net encoder and the PatchGAN share."""

import keras
from keras import layers

# DCGAN / pix2pix weight initialisation: N(0, 0.02).
WEIGHT_INITIALIZER_STDDEV = 0.02


def weight_initializer():
    return keras.initializers.RandomNormal(stddev=WEIGHT_INITIALIZER_STDDEV)


PADDINGS = ("same", "symmetric")


def convolution(filters, kernel_size, *, name, spectral_norm=False, dtype=None, **options):
    """A `Conv2D` with the DCGAN initialisation, named `name`; with `spectral_norm`, the same convolution (named
    `{name}_kernel`) inside a `keras.layers.SpectralNormalization` named `name` (Miyato et al. 2018)."""
    layer = layers.Conv2D(
        filters,
        kernel_size,
        kernel_initializer=weight_initializer(),
        dtype=dtype,
        name=f"{name}_kernel" if spectral_norm else name,
        **options,
    )
    return layers.SpectralNormalization(layer, dtype=dtype, name=name) if spectral_norm else layer


def conv_block(
    x, filters, stride, *, normalize, batch_norm_momentum, name, padding="same", kernel_size=4, spectral_norm=False
):
    """4x4 (or `kernel_size`) convolution -> batch norm (if `normalize`) -> LeakyReLU(0.2); layers named `{name}_conv` etc.

    With `spectral_norm` the convolution is wrapped in `keras.layers.SpectralNormalization` (named
    `{name}_conv`, the convolution inside it `{name}_conv_kernel`) and batch norm is left out: the two do not mix,
    since batch norm would rescale what the spectral norm bounds.

    `padding="same"` is Keras's: a stride-1 4x4 convolution then pads 1 pixel before and 2 after, so the
    bottom and right edges see more zeros than the top and left. `"symmetric"` pads 1 on every side, as the
    original pix2pix (Torch) does: a stride-2 block still halves the image, a stride-1 block shrinks it by one.
    An odd `kernel_size` with `"same"` padding pads equally on every side and keeps the size at stride 1.
    """
    if padding not in PADDINGS:
        raise ValueError(f"Unknown padding {padding!r}; use one of {', '.join(PADDINGS)}.")
    if padding == "symmetric":
        x = layers.ZeroPadding2D(1, name=f"{name}_pad")(x)
    normalize = normalize and not spectral_norm
    x = convolution(
        filters,
        kernel_size,
        name=f"{name}_conv",
        spectral_norm=spectral_norm,
        strides=stride,
        padding="same" if padding == "same" else "valid",
        use_bias=not normalize,  # batch norm's offset replaces the bias
    )(x)
    if normalize:
        x = layers.BatchNormalization(momentum=batch_norm_momentum, name=f"{name}_norm")(x)
    return layers.LeakyReLU(0.2, name=f"{name}_activation")(x)
