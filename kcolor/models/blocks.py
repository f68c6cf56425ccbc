"""The downsampling block that the U-Net encoder and the PatchGAN share."""

import keras
from keras import layers

# DCGAN / pix2pix weight initialisation: N(0, 0.02).
WEIGHT_INITIALIZER_STDDEV = 0.02


def weight_initializer():
    return keras.initializers.RandomNormal(stddev=WEIGHT_INITIALIZER_STDDEV)


def conv_block(x, filters, stride, *, normalize, batch_norm_momentum, name):
    """4x4 convolution -> batch norm (if `normalize`) -> LeakyReLU(0.2); layers named `{name}_conv` etc."""
    x = layers.Conv2D(
        filters,
        4,
        strides=stride,
        padding="same",
        use_bias=not normalize,  # batch norm's offset replaces the bias
        kernel_initializer=weight_initializer(),
        name=f"{name}_conv",
    )(x)
    if normalize:
        x = layers.BatchNormalization(momentum=batch_norm_momentum, name=f"{name}_norm")(x)
    return layers.LeakyReLU(0.2, name=f"{name}_activation")(x)
