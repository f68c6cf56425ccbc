"""`SemanticJudge`: a classifier of color photos used to judge colorizations, and where judges come from.

A judge wraps any Keras classifier (or callable) from uint8 RGB photos to class scores. It comes from one of
three places: a `.keras` file written by `kcolor.evaluation.judge_training.train_judge` (`load_judge`), a
`keras.applications` ImageNet classifier restricted to Imagenette's ten ImageNet classes (`imagenet_judge`), or
a command-line spec naming either (`judge_from_spec`). `kcolor.evaluation.judge` uses it to measure semantic
interpretability.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from kcolor.evaluation.batching import DEFAULT_BATCH_SIZE, batch_slices
from kcolor.evaluation.validation import check_images, check_labels

IMAGENETTE_IMAGENET_INDICES = {
    "n01440764": 0,  # tench
    "n02102040": 217,  # English springer
    "n02979186": 482,  # cassette player
    "n03000684": 491,  # chain saw
    "n03028079": 497,  # church
    "n03394916": 566,  # French horn
    "n03417042": 569,  # garbage truck
    "n03425413": 571,  # gas pump
    "n03445777": 574,  # golf ball
    "n03888257": 701,  # parachute
}
"""Imagenette's classes (WordNet ids, in sorted order: the labels of `folder:` and TFDS) -> ImageNet-1k index."""

IMAGENETTE_CLASS_NAMES = {
    "n01440764": "tench", "n02102040": "English springer", "n02979186": "cassette player",
    "n03000684": "chain saw", "n03028079": "church", "n03394916": "French horn", "n03417042": "garbage truck",
    "n03425413": "gas pump", "n03445777": "golf ball", "n03888257": "parachute",
}  # fmt: skip
"""Readable names of Imagenette's WordNet ids, for tables."""

IMAGENET_PREFIX = "imagenet:"
"""A judge spec that starts with this names a `keras.applications` ImageNet classifier (`judge_from_spec`)."""


def readable_class_names(names: Sequence[str] | None) -> list[str] | None:
    """Class names with Imagenette's WordNet ids replaced by words (`n01440764` -> `tench`).

    Args:
        names: Class names, or None.

    Returns:
        The names, Imagenette's ids replaced and others kept; None for None.

    Example:

    ```python
    readable_class_names(["n01440764", "cat"])   # ["tench", "cat"]
    ```
    """
    return None if names is None else [IMAGENETTE_CLASS_NAMES.get(name, name) for name in names]


class SemanticJudge:
    """A classifier that judges colorizations by how recognisable they are.

    Args:
        classifier: A Keras model (or any callable) from float32 RGB images in [0, 255], `(N, H, W, 3)`, to
            class scores `(N, C)` (logits or probabilities).
        class_indices: For each of the dataset's labels, the column of the classifier's output that stands for
            it (e.g. `IMAGENETTE_IMAGENET_INDICES` in label order for an ImageNet classifier): the judge's
            answer is the label whose column scores highest. None: the columns are the labels.
        preprocess: Optional function applied to the float32 [0, 255] images before the classifier (e.g.
            `keras.applications.efficientnet.preprocess_input`).
        image_size: Optional side the images are resized to first (bilinear), for classifiers of a fixed size.
        batch_size: Images classified at a time.
        name: Shown in reports.
        outputs: What the classifier returns: `"logits"` (a trained judge) or `"probabilities"` (a
            `keras.applications` model); `probabilities` turns either into probabilities over the labels.

    Example:

    ```python
    judge = SemanticJudge(keras.saving.load_model("runs/judge/judge.keras"))
    judge.accuracy(images, labels)   # e.g. 0.71 on color photos
    ```
    """

    def __init__(
        self,
        classifier: Callable,
        class_indices: Sequence[int] | None = None,
        preprocess: Callable | None = None,
        image_size: int | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        name: str = "judge",
        outputs: str = "logits",
    ):
        if not callable(classifier):
            raise ValueError(f"classifier must be a Keras model or a callable, got {type(classifier).__name__}.")
        if outputs not in ("logits", "probabilities"):
            raise ValueError(f"outputs must be 'logits' or 'probabilities', got {outputs!r}.")
        self.outputs = outputs
        self.classifier = classifier
        self.class_indices = None if class_indices is None else np.asarray(class_indices, dtype=np.int64)
        self.preprocess = preprocess
        self.image_size = image_size
        self.batch_size = batch_size
        self.name = name

    def scores(self, images) -> np.ndarray:
        """Class scores `(N, number of labels)` of uint8 RGB images `(N, H, W, 3)`."""
        from keras import ops

        images = check_images(images)
        batches = []
        for batch in batch_slices(len(images), self.batch_size):
            inputs = ops.convert_to_tensor(images[batch].astype(np.float32))
            if self.image_size is not None and tuple(images.shape[1:3]) != (self.image_size,) * 2:
                inputs = ops.image.resize(inputs, (self.image_size, self.image_size), interpolation="bilinear")
            if self.preprocess is not None:
                inputs = self.preprocess(inputs)
            output = self.classifier(inputs, training=False) if _is_keras_layer(self.classifier) else self.classifier(inputs)
            output = ops.convert_to_numpy(output).astype(np.float32)
            if output.ndim != 2:
                raise ValueError(f"the classifier must return (batch, classes) scores, got shape {output.shape}.")
            batches.append(output if self.class_indices is None else output[:, self.class_indices])
        return np.concatenate(batches) if batches else np.zeros((0, 0), np.float32)

    def probabilities(self, images) -> np.ndarray:
        """The judge's belief in each label, `(N, number of labels)` float64 rows that sum to 1.

        Logits go through a softmax over the labels; probabilities (of an ImageNet classifier restricted to a
        dataset's classes) are renormalised over them.
        """
        scores = self.scores(images).astype(np.float64)
        if self.outputs == "logits":
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
        return scores / np.maximum(scores.sum(axis=-1, keepdims=True), np.finfo(np.float64).tiny)

    def right_class_probability(self, images, labels) -> np.ndarray:
        """The probability the judge gives each image's true label, `(N,)` float64.

        Its mean is the judge's accuracy if it answered by drawing from its beliefs: a smoother measure than
        top-1 accuracy, which moves only when an image crosses the decision boundary.
        """
        labels = check_labels(labels, len(images))
        return self.probabilities(images)[np.arange(len(labels)), labels]

    def predict(self, images) -> np.ndarray:
        """The label the judge sees in each image, `(N,)` int64."""
        return np.argmax(self.scores(images), axis=-1).astype(np.int64)

    def correct(self, images, labels) -> np.ndarray:
        """1.0 where the judge recognises an image's label, else 0.0: `(N,)` float32."""
        labels = check_labels(labels, len(images))
        return (self.predict(images) == labels).astype(np.float32)

    def accuracy(self, images, labels) -> float:
        """Top-1 accuracy of the judge on labelled uint8 RGB images."""
        return float(np.mean(self.correct(images, labels)))


def load_judge(path: str | Path) -> SemanticJudge:
    """Loads a judge saved by `kcolor.evaluation.judge_training.train_judge` (a `.keras` file; safe mode).

    Args:
        path: The `.keras` file.

    Returns:
        A `SemanticJudge` named after the file.

    Raises:
        ValueError: If there is no such file (the message says how to train one).

    Example:

    ```python
    judge = load_judge("runs/judge/judge.keras")
    ```
    """
    import tempfile

    import keras

    import kcolor.evaluation.chroma_view  # noqa: F401  (registers ChromaOnly, the layer of "chroma" judges)
    from kcolor.keras_compat import compatible_model_file

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"no judge at {path}: train one with `kcolor judge train --dataset SPEC --out {path}`.")
    with tempfile.TemporaryDirectory() as folder:  # a judge saved by a newer Keras 3 opens on an older one
        classifier = keras.saving.load_model(compatible_model_file(path, folder) or path, safe_mode=True)
    return SemanticJudge(classifier, name=path.stem)


def imagenet_judge(
    architecture: str = "EfficientNetB0", weights: str | None = "imagenet", class_indices=None, image_size=224
) -> SemanticJudge:
    """A judge from a `keras.applications` ImageNet classifier, restricted to a dataset's classes.

    Imagenette's ten classes are ImageNet classes, so an ImageNet classifier judges it without training: its
    answer is the highest-scoring of the ten ImageNet classes. On Colab the weights download on first use.

    Args:
        architecture: A `keras.applications` model name (`"EfficientNetB0"`, `"ResNet50"`, `"MobileNetV3Small"`...).
        weights: `"imagenet"`, a weights file, or None (random weights: tests the code path only).
        class_indices: ImageNet index of each dataset label; default: Imagenette's, in label order.
        image_size: Input side of the classifier.

    Returns:
        A `SemanticJudge`.

    Raises:
        ValueError: an unknown architecture, or weights that cannot be downloaded (the message says so).

    Example:

    ```python
    judge = imagenet_judge("EfficientNetB0")   # judges Imagenette photos
    ```
    """
    import keras

    constructor = getattr(keras.applications, architecture, None)
    if constructor is None or not callable(constructor):
        raise ValueError(f"keras.applications has no model {architecture!r} (e.g. EfficientNetB0, ResNet50).")
    module_name = constructor.__module__.rsplit(".", 1)[-1]
    preprocess = getattr(getattr(keras.applications, module_name, None), "preprocess_input", None)
    try:
        classifier = constructor(weights=weights, input_shape=(image_size, image_size, 3))
    except Exception as error:  # a download failure surfaces as several error types across versions
        if weights != "imagenet":
            raise
        raise ValueError(
            f"could not load the ImageNet weights of {architecture} ({type(error).__name__}: {error}); they "
            "download from the internet on first use. Offline, train a judge: `kcolor judge train`."
        ) from error
    indices = list(IMAGENETTE_IMAGENET_INDICES.values()) if class_indices is None else class_indices
    return SemanticJudge(
        classifier, class_indices=indices, preprocess=preprocess, image_size=image_size,
        name=f"{architecture} (ImageNet)", outputs="probabilities",
    )  # fmt: skip


def _is_keras_layer(model) -> bool:
    import keras

    return isinstance(model, keras.layers.Layer)


def judge_from_spec(spec: str) -> SemanticJudge:
    """A judge from a command-line spec: a `.keras` file (`load_judge`), or `imagenet:ARCHITECTURE`.

    Args:
        spec: A `.keras` path, or `imagenet:` followed by a `keras.applications` model name (default
            `EfficientNetB0`).

    Returns:
        A `SemanticJudge`.

    Raises:
        ValueError: As `load_judge` or `imagenet_judge`.

    Example:

    ```python
    judge_from_spec("runs/judge/judge.keras")
    judge_from_spec("imagenet:EfficientNetB0")   # Imagenette only; downloads the weights once
    ```
    """
    if str(spec).startswith(IMAGENET_PREFIX):
        return imagenet_judge(str(spec)[len(IMAGENET_PREFIX) :] or "EfficientNetB0")
    return load_judge(spec)
