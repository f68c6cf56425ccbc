"""`ChromaOnly`: the layer that lets a judge see a photo's colors and nothing else.

A judge that sees the whole photo recognises most of it from lightness alone: on 32-px CIFAR-10 images a
small classifier scores 59 % on the real images and 51 % on their gray versions, so the colors can move it by
8 points at most, about the bootstrap noise of a few hundred images. A judge built with `view="chroma"`
(`kcolor.evaluation.judge_training.build_judge_classifier`) starts with this layer: it converts the RGB photo to
L\*a\*b\* and keeps only a\* and b\*. Every gray photo then looks the same to it (a\* = b\* = 0), so its gray
accuracy is chance, and everything it recognises comes from the colors: a colorization closes its gap only with
colors that belong to the photo's class.

Example:

```python
view = ChromaOnly()
view(np.full((1, 8, 8, 3), 128.0))   # (1, 8, 8, 2), all zeros: gray has no chroma
```
"""

import keras
from keras import ops

from kcolor.color import normalize_ab, rgb_to_lab


@keras.saving.register_keras_serializable(package="kcolor")
class ChromaOnly(keras.layers.Layer):
    """RGB photos in [0, 255] to their a\\*b\\* channels, scaled to about [-1, 1] as the generator's are.

    Lightness is dropped: two photos with the same colors and different lightness look the same to what
    follows. The layer has no weights.

    Args:
        **kwargs: Base `keras.layers.Layer` arguments (`name`, `dtype`).

    Example:

    ```python
    images = keras.Input((32, 32, 3))
    chroma = ChromaOnly(name="chroma")(images)   # (None, 32, 32, 2)
    ```
    """

    def call(self, images):
        lab = rgb_to_lab(ops.clip(ops.cast(images, "float32") / 255.0, 0.0, 1.0))
        return normalize_ab(lab[..., 1:])

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], 2)
