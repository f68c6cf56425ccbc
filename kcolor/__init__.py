"""kcolor: image colorization with conditional GANs (Nazeri et al. 2018) in Keras 3.

The package follows the data flow of the course: `kcolor.data` (uint8 RGB batches) -> `kcolor.color` (RGB <->
L*a*b* in `keras.ops`, on the device) -> `kcolor.models` (U-Net generator, PatchGAN discriminator, presets) ->
`kcolor.gan` (`ColorizationGAN`, a `keras.Model` whose `train_step` runs under `fit`) -> `kcolor.evaluation`
(metrics, figures, reports) -> `kcolor.cli` (`kcolor train | colorize | evaluate`). Importing kcolor does not
import TensorFlow: with `KERAS_BACKEND=jax` it works where TensorFlow is not installed.
"""

from kcolor.colorize import colorize, colorize_photo
from kcolor.data import load_arrays, load_dataset
from kcolor.gan import ColorizationGAN
from kcolor.models import build_discriminator, build_generator

__version__ = "0.1.0"

__all__ = [
    "ColorizationGAN",
    "build_discriminator",
    "build_generator",
    "colorize",
    "colorize_photo",
    "load_arrays",
    "load_dataset",
]
