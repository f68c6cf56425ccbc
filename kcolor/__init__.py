"""kcolor: image colorization with conditional GANs (Nazeri et al. 2018) in Keras 3.

The package follows the data flow of the course: `kcolor.data` (uint8 RGB batches) -> `kcolor.color` (RGB <->
L*a*b* in `keras.ops`, on the device) -> `kcolor.models` (U-Net generator, PatchGAN discriminator, presets) ->
`kcolor.gan` (`ColorizationGAN`, a `keras.Model` whose `train_step` runs under `fit`) -> `kcolor.evaluation`
(metrics, figures, reports) -> `kcolor.cli` (`kcolor train | colorize | evaluate`). docs/ARCHITECTURE.md maps
this flow and says which files to read first.

The names below are imported lazily, on first use, so `import kcolor` (and `kcolor.data`, `kcolor.evaluation`)
stays light and never imports Keras or TensorFlow by itself; with `KERAS_BACKEND=jax` kcolor works where
TensorFlow is not installed.
"""

import importlib

__version__ = "0.1.0"

_EXPORTS = {
    "ColorizationGAN": "kcolor.gan",
    "build_discriminator": "kcolor.models",
    "build_generator": "kcolor.models",
    "load_arrays": "kcolor.data",
    "load_dataset": "kcolor.data",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'kcolor' has no attribute {name!r}")
