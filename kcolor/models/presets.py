"""Architecture presets: the paper's CIFAR-10 and Places365 networks, kcolor's photo network, and pix2pix.

A preset fixes the shape of the U-Net generator and the PatchGAN discriminator (filters and strides of each
block, where dropout runs) together with the image size it was designed for and the batch size kcolor trains it
with by default (the paper's, except for `nazeri-cifar`: see `Preset`). The
`width_multiplier` of the builders scales every block's filters, so tests and smoke runs can use the same
architecture at a fraction of the cost.

Example:

```python
preset = get_preset("nazeri-cifar")
preset.image_size, preset.batch_size   # (32, 32); the paper trained at batch 128
```
"""

import dataclasses
import difflib


@dataclasses.dataclass(frozen=True)
class Preset:
    """One generator/discriminator architecture and the data shape it was designed for.

    Attributes:
        name: The preset's name, e.g. `"nazeri-cifar"`.
        image_size: Side of the square training crops, in pixels.
        batch_size: The default training batch size. The paper's, except for `nazeri-cifar`: the paper
            trained it at batch 128, but on a CIFAR-10 training set of 4.1k-4.6k images, 15 epochs at batch 32
            (four times the updates, at about the same time per epoch on a CPU) gave 0.3-0.5 dB more
            validation PSNR for the L1 U-Net and more colorful GANs at the same PSNR (docs/RESULTS.md);
            `batch_size=128` trains the paper's setup.
        encoder: `(filters, stride)` of each 4x4 encoder convolution, outermost first.
        decoder: `(filters, dropout_rate)` of each 4x4 stride-2 transposed convolution, innermost first.
            There is one decoder block fewer than encoder blocks: each one is followed by the skip
            connection from the encoder block of the same resolution.
        discriminator: `(filters, stride)` of each 4x4 PatchGAN convolution before the 1-channel logit map.
        description: One line for `--help` and docs.
        upsampling: How each decoder block doubles the image. `"transpose"` (the paper's and pix2pix's): a 4x4
            stride-2 transposed convolution, whose kernel overlaps unevenly and prints a checkerboard into the
            colors (Odena et al. 2016). `"resize"`: bilinear 2x resize, then a 3x3 convolution, which cannot
            (2.25x the multiply-adds of the decoder's transposed convolutions).
        discriminator_padding: `"same"` (Keras's: its stride-1 4x4 convolutions pad the bottom and right edges
            more than the top and left) or `"symmetric"` (1 pixel on every side, as pix2pix's Torch code). With
            `"same"`, the photo GAN learned to paint saturated blobs into dark bottom-right corners, where the
            discriminator looks least (docs/RESULTS.md).
        encoder_stem_kernel: Side of the generator's first (stride-1) encoder convolution's kernel. 4 is the
            paper's, but Keras's `"same"` padding then pads 1 pixel before and 2 after, so the generator sees
            its bottom and right edges differently from its top and left; 3 pads 1 on every side. The photo
            GAN with 4 painted blobs that lean towards the bottom right of its input (docs/RESULTS.md).
        discriminator_spectral_norm: Wrap every discriminator convolution in `keras.layers.SpectralNormalization`
            (Miyato et al. 2018) instead of following it with batch norm: each layer's largest singular value is
            held at 1, so D's verdict cannot change faster than its input. On photos an unconstrained D let the
            GAN paint saturated blobs, at a rate that swung from epoch to epoch (docs/RESULTS.md).
        l1_weight: lambda of kcolor's training recipe for this preset (`kcolor.training.TrainConfig` uses it
            unless told otherwise; the paper's is 100). Chosen on held-out images: docs/RESULTS.md.
    """

    name: str
    image_size: int
    batch_size: int
    encoder: tuple
    decoder: tuple
    discriminator: tuple
    description: str = ""
    upsampling: str = "transpose"
    l1_weight: float = 500.0
    discriminator_padding: str = "same"
    encoder_stem_kernel: int = 4
    discriminator_spectral_norm: bool = False

    @property
    def size_multiple(self):
        """Height and width must be multiples of this: the product of the encoder strides."""
        multiple = 1
        for _, stride in self.encoder:
            multiple *= stride
        return multiple


# The discriminator of the paper's code and of pix2pix: 64(s2, no norm), 128(s2), 256(s2), 512(s1), logits.
_PATCHGAN = ((64, 2), (128, 2), (256, 2), (512, 1))

PRESETS = {
    preset.name: preset
    for preset in (
        Preset(
            name="nazeri-cifar",
            image_size=32,
            batch_size=32,  # the paper's: 128; see Preset.batch_size
            # 32x32 -> 32, 16, 8, 4, 2
            encoder=((64, 1), (128, 2), (256, 2), (512, 2), (512, 2)),
            # 2 -> 4, 8, 16, 32
            decoder=((512, 0.5), (256, 0.5), (128, 0.0), (64, 0.0)),
            discriminator=_PATCHGAN,
            description="Nazeri et al. 2018, CIFAR-10: 32 px, batch 32 (the paper: 128).",
        ),
        Preset(
            name="nazeri-places",
            image_size=256,
            batch_size=16,
            # 256x256 -> 256, 128, 64, 32, 16, 8, 4, 2
            encoder=((64, 1), (64, 2), (128, 2), (256, 2), (512, 2), (512, 2), (512, 2), (512, 2)),
            decoder=((512, 0.5), (512, 0.5), (512, 0.5), (256, 0.0), (128, 0.0), (64, 0.0), (64, 0.0)),
            discriminator=_PATCHGAN,
            description="Nazeri et al. 2018, Places365: 256 px, batch 16.",
        ),
        Preset(
            name="photo-128",
            image_size=128,
            batch_size=16,
            # 128x128 -> 128, 64, 32, 16, 8, 4, 2: the Places365 U-Net with its last encoder block removed
            encoder=((64, 1), (64, 2), (128, 2), (256, 2), (512, 2), (512, 2), (512, 2)),
            decoder=((512, 0.5), (512, 0.5), (256, 0.0), (128, 0.0), (64, 0.0), (64, 0.0)),
            discriminator=_PATCHGAN,
            upsampling="resize",
            l1_weight=100.0,
            discriminator_padding="symmetric",
            encoder_stem_kernel=3,
            description="Photos at 128 px: the Places365 networks scaled to 128 px, resize-convolution decoder.",
        ),
        Preset(
            name="pix2pix",
            image_size=256,
            batch_size=16,
            # 256x256 -> 128, 64, 32, 16, 8, 4, 2, 1; the output layer upsamples the last 2x.
            encoder=((64, 2), (128, 2), (256, 2), (512, 2), (512, 2), (512, 2), (512, 2), (512, 2)),
            decoder=((512, 0.5), (512, 0.5), (512, 0.5), (512, 0.0), (256, 0.0), (128, 0.0), (64, 0.0)),
            discriminator=_PATCHGAN,
            description="Isola et al. 2017 U-Net-256 and 70x70-style PatchGAN: 256 px.",
        ),
    )
}


def get_preset(preset):
    """Returns the `Preset` named `preset` (a `Preset` passes through unchanged).

    Raises:
        ValueError: for an unknown name, listing the known ones and the closest match.
    """
    if isinstance(preset, Preset):
        return preset
    if preset in PRESETS:
        return PRESETS[preset]
    close = difflib.get_close_matches(str(preset), PRESETS, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise ValueError(f"Unknown preset {preset!r}.{hint} Known presets: {', '.join(PRESETS)}.")


def scale_filters(filters, width_multiplier):
    """Filters of a block after applying `width_multiplier` (at least 1)."""
    if width_multiplier <= 0:
        raise ValueError(f"width_multiplier must be positive, got {width_multiplier}.")
    return max(1, int(round(filters * width_multiplier)))


def check_image_size(height, width, preset):
    """Raises a `ValueError` unless a `height` x `width` image fits `preset`'s generator."""
    multiple = get_preset(preset).size_multiple
    for name, value in (("height", height), ("width", width)):
        if value is not None and (value <= 0 or value % multiple):
            raise ValueError(
                f"Image {name} {value} does not fit preset {get_preset(preset).name!r}: its generator halves "
                f"the image {multiple.bit_length() - 1} times, so height and width must be positive multiples "
                f"of {multiple} (e.g. {max(multiple, (value // multiple) * multiple)})."
            )
