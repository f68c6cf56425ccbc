"""The U-Net generator: grayscale lightness in, the two color channels out.

Nazeri et al. (2018) replace the noise vector of a GAN's generator with the image's lightness: the
generator is an encoder-decoder with skip connections (U-Net, Ronneberger et al. 2015; Isola et al. 2017).
The encoder's 4x4 convolutions halve the image at every block after the first, with batch normalization and
LeakyReLU(0.2); the decoder's blocks double it again (4x4 stride-2 transposed convolutions, or a bilinear
resize and a 3x3 convolution: `upsampling_block`), with batch normalization, dropout where the preset says so, and ReLU, and each decoder block is concatenated with the
encoder block of the same resolution, so fine detail does not have to squeeze through the bottleneck.

The generator predicts **only a*b*** (2 channels, `tanh`, normalised as in `kcolor.color`). The lightness
is known exactly, it is the input, and the colorized image keeps it: a network that also predicted L*
could only lose luminance detail, never add information.
"""

import keras
from keras import layers

from kcolor.models.blocks import conv_block, weight_initializer
from kcolor.models.presets import check_image_size, get_preset, scale_filters


def build_generator(
    preset="nazeri-cifar", *, width_multiplier=1.0, image_size=None, batch_norm_momentum=0.9, name="generator"
):
    """Builds the U-Net generator of a preset.

    The model is fully convolutional: by default it accepts any height and width that are multiples of the
    preset's `size_multiple` (2 to the number of stride-2 encoder blocks).

    Args:
        preset: A preset name (`"nazeri-cifar"`, `"nazeri-places"`, `"pix2pix"`) or a `Preset`.
        width_multiplier: Scales the filters of every block (e.g. 0.25 for a CPU-sized model).
        image_size: Optional fixed square input size; `None` builds a model for any valid size. A size the
            preset cannot take raises a `ValueError`.
        batch_norm_momentum: Momentum of the batch-norm moving statistics used at inference. 0.9 (Torch's 0.1,
            as in the original pix2pix) tracks the changing generator closely enough that short runs already
            colorize well in inference mode; Keras's default 0.99 lags behind for the first few hundred steps.
        name: Model name.

    Returns:
        A functional `keras.Model` mapping normalised lightness `(batch, H, W, 1)` to normalised ab
        `(batch, H, W, 2)` in [-1, 1].

    Example:

    ```python
    generator = build_generator("nazeri-cifar", width_multiplier=0.25)
    ab = generator(np.zeros((1, 32, 32, 1), "float32"))   # (1, 32, 32, 2)
    ```
    """
    preset = get_preset(preset)
    if len(preset.decoder) != len(preset.encoder) - 1:
        raise ValueError(
            f"Preset {preset.name!r} needs one decoder block fewer than encoder blocks, got "
            f"{len(preset.encoder)} encoder and {len(preset.decoder)} decoder blocks."
        )
    check_image_size(image_size, image_size, preset)

    lightness = keras.Input(shape=(image_size, image_size, 1), name="lightness")
    x = lightness
    skips = []
    for index, (filters, stride) in enumerate(preset.encoder):
        # (batch, H / prod(strides so far), ..., filters); as in pix2pix the outermost block has no norm
        x = conv_block(
            x,
            scale_filters(filters, width_multiplier),
            stride,
            normalize=index > 0,
            batch_norm_momentum=batch_norm_momentum,
            name=f"encoder_{index}",
            kernel_size=preset.encoder_stem_kernel if index == 0 else 4,
        )
        skips.append(x)

    for index, (filters, dropout) in enumerate(preset.decoder):
        x = upsampling_block(x, scale_filters(filters, width_multiplier), preset.upsampling, name=f"decoder_{index}")
        x = layers.BatchNormalization(momentum=batch_norm_momentum, name=f"decoder_{index}_norm")(x)
        if dropout > 0:
            x = layers.Dropout(dropout, name=f"decoder_{index}_dropout")(x)
        x = layers.ReLU(name=f"decoder_{index}_activation")(x)
        # Skip connection from the encoder block with the same resolution.
        x = layers.Concatenate(name=f"decoder_{index}_skip")([x, skips[-index - 2]])

    output_stride = preset.encoder[0][1]
    if output_stride == 1:
        ab = layers.Conv2D(2, 1, activation="tanh", dtype="float32", name="ab")(x)
    else:  # pix2pix: the outermost encoder block halved the image, so the output layer doubles it back
        ab = layers.Conv2DTranspose(
            2, 4, strides=output_stride, padding="same", activation="tanh", dtype="float32", name="ab"
        )(x)
    return keras.Model(lightness, ab, name=name)  # (batch, H, W, 2)


UPSAMPLING_KINDS = ("transpose", "resize")


def upsampling_block(x, filters, kind, *, name):
    """Doubles height and width of `x` into `filters` channels (layers named `{name}_conv`, `{name}_resize`).

    `"transpose"` is a 4x4 stride-2 transposed convolution. Every output pixel of it sums 4 of its 16 taps, but
    which 4 alternates from pixel to pixel, so unless training balances them exactly the output carries a
    2-pixel checkerboard. `"resize"` resizes bilinearly and then applies a 3x3 convolution, the same kernel at
    every pixel, which has no such pattern (Odena, Dumoulin & Olah 2016, "Deconvolution and checkerboard
    artifacts").
    """
    if kind == "transpose":
        return layers.Conv2DTranspose(
            filters, 4, strides=2, padding="same", use_bias=False, kernel_initializer=weight_initializer(),
            name=f"{name}_conv",
        )(x)  # fmt: skip
    if kind == "resize":
        x = layers.UpSampling2D(2, interpolation="bilinear", name=f"{name}_resize")(x)
        return layers.Conv2D(
            filters, 3, padding="same", use_bias=False, kernel_initializer=weight_initializer(), name=f"{name}_conv"
        )(x)
    raise ValueError(f"Unknown upsampling {kind!r}; use one of {', '.join(UPSAMPLING_KINDS)}.")


def generator_size_multiple(generator):
    """Height and width multiple that a built generator accepts (product of its encoder strides)."""
    multiple = 1
    for layer in generator.layers:
        if layer.name.startswith("encoder_") and layer.name.endswith("_conv"):
            multiple *= layer.strides[0]
    return multiple
