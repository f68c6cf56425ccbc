"""Semantic interpretability: does a classifier recognise the colorized photo as well as the real one?

Pixel metrics reward gray: a confident wrong hue costs more PSNR than no hue at all. Zhang, Isola & Efros
(2016) judge colorizations perceptually instead, with a classifier trained on color photos. It classifies the
validation photos three ways: as they are (*ground truth*), as gray (L* kept, a* = b* = 0) and as each model's
colorization. Color helps the classifier, so the gray photos score lower than the truth, and a model's
colorizations score somewhere between: the share of the gray-to-truth gap a model closes,

    gap closed = (accuracy(model) - accuracy(gray)) / (accuracy(truth) - accuracy(gray)),

is 0 for a model that adds nothing a classifier can use and 1 for colors as informative as the real ones
(Zhang et al.: 52.7 % gray, 56.0 % colorized, 68.3 % real on ImageNet with VGG-16, so 21 % of the gap).

A `SemanticJudge` wraps any Keras classifier. `build_judge_classifier` and `train_judge` make a small one on
a dataset's training split (`kcolor judge train`); `imagenet_judge` wraps a `keras.applications` ImageNet
classifier, which can judge Imagenette directly since its ten classes are ImageNet classes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kcolor.evaluation.batching import DEFAULT_BATCH_SIZE, batch_slices
from kcolor.evaluation.lab import gray_reference
from kcolor.evaluation.validation import GRAY_ROW, TRUTH_ROW, check_images, check_labels

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

JUDGE_IMAGE_SIZE = 64
"""Side at which `build_judge_classifier`'s network looks at a photo: color and coarse shape, cheap on a CPU."""


def readable_class_names(names: Sequence[str] | None) -> list[str] | None:
    """Class names with Imagenette's WordNet ids replaced by words (`n01440764` -> `tench`)."""
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
    ):
        if not callable(classifier):
            raise ValueError(f"classifier must be a Keras model or a callable, got {type(classifier).__name__}.")
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


@dataclass
class SemanticInterpretability:
    """The judge's accuracy on the truth, on gray and on each model's colorizations.

    Attributes:
        accuracy: Row name (`"gray"`, the models, `"ground truth"`) to top-1 accuracy.
        correct: Row name to the `(N,)` 0/1 per-image correctness.
        judge: The judge's name.
    """

    accuracy: dict[str, float]
    correct: dict[str, np.ndarray]
    judge: str = "judge"

    def gap_closed(self, row: str) -> float:
        """The share of the gray-to-truth accuracy gap that `row` closes (nan when truth is not above gray)."""
        return gap_closed(self.accuracy[row], self.accuracy[GRAY_ROW], self.accuracy[TRUTH_ROW])

    def table_markdown(self) -> str:
        lines = ["| Source | Judge accuracy | Gap closed |", "| --- | --- | --- |"]
        lines += [f"| {row} | {value:.1%} | {_percent(self.gap_closed(row))} |" for row, value in self.accuracy.items()]
        return "\n".join(lines)


def gap_closed(accuracy: float, gray_accuracy: float, truth_accuracy: float) -> float:
    """`(accuracy - gray) / (truth - gray)`: 0 = as recognisable as gray, 1 = as the real photos.

    Returns nan when the truth is not more recognisable than gray (the judge does not use color).

    Example:
        >>> round(gap_closed(0.560, 0.527, 0.683), 2)   # Zhang et al. 2016 on ImageNet
        0.21
    """
    gap = truth_accuracy - gray_accuracy
    return float("nan") if gap <= 0 else float((accuracy - gray_accuracy) / gap)


def semantic_interpretability(
    judge: SemanticJudge, true_rgb, labels, predictions: Mapping[str, np.ndarray] | None = None
) -> SemanticInterpretability:
    """Classifies the truth, its gray version and every model's colorization of it.

    Args:
        judge: A `SemanticJudge`.
        true_rgb: `(N, H, W, 3)` uint8 color photos.
        labels: `(N,)` integer labels of the photos, as the judge numbers them.
        predictions: Model name to `(N, H, W, 3)` uint8 colorizations of the same photos.

    Returns:
        A `SemanticInterpretability` with rows gray, the models, ground truth.

    Example:

    ```python
    result = semantic_interpretability(judge, images, labels, {"GAN": colorized})
    result.gap_closed("GAN")
    ```
    """
    true_rgb = check_images(true_rgb, "true_rgb")
    labels = check_labels(labels, len(true_rgb))
    rows = {GRAY_ROW: gray_reference(true_rgb), **dict(predictions or {}), TRUTH_ROW: true_rgb}
    correct = {row: judge.correct(images, labels) for row, images in rows.items()}
    accuracy = {row: float(np.mean(values)) if len(values) else float("nan") for row, values in correct.items()}
    return SemanticInterpretability(accuracy=accuracy, correct=correct, judge=judge.name)


def build_judge_classifier(num_classes: int, *, width: int = 16, input_size: int = JUDGE_IMAGE_SIZE, name="judge"):
    """A small convolutional classifier of color photos, to train as a judge.

    Images of any size (float32 RGB in [0, 255]) are resized to `input_size`, then four blocks of two 3x3
    convolutions (batch norm, ReLU) and a 2x2 max-pool, `width` to 8 x `width` filters, global average pooling
    and a dense layer give one logit per class. Random flips and shifts augment the photos during training.

    Args:
        num_classes: Number of classes.
        width: Filters of the first block.
        input_size: Side of the resized photos the network sees.
        name: Model name.

    Returns:
        A functional `keras.Model` from `(batch, H, W, 3)` to `(batch, num_classes)` logits.
    """
    import keras
    from keras import layers

    if num_classes < 2:
        raise ValueError(f"a judge needs at least 2 classes, got {num_classes}.")
    images = keras.Input(shape=(None, None, 3), name="images")
    x = layers.Resizing(input_size, input_size, interpolation="bilinear", name="resize")(images)
    x = layers.RandomFlip("horizontal", name="augment_flip")(x)
    x = layers.RandomTranslation(0.1, 0.1, fill_mode="reflect", name="augment_shift")(x)
    x = layers.Rescaling(1 / 127.5, offset=-1.0, name="rescale")(x)
    for block in range(4):
        for index in range(2):
            x = layers.Conv2D(width * 2**block, 3, padding="same", use_bias=False, name=f"block_{block}_conv_{index}")(x)
            x = layers.BatchNormalization(name=f"block_{block}_norm_{index}")(x)
            x = layers.ReLU(name=f"block_{block}_relu_{index}")(x)
        x = layers.MaxPooling2D(2, name=f"block_{block}_pool")(x)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    x = layers.Dropout(0.3, name="dropout")(x)
    logits = layers.Dense(num_classes, dtype="float32", name="logits")(x)
    return keras.Model(images, logits, name=name)


def train_judge(
    dataset: str,
    out: str | Path,
    *,
    split: str = "train",
    image_size: int = 128,
    epochs: int = 12,
    batch_size: int = 32,
    width: int = 16,
    learning_rate: float = 1e-3,
    seed: int = 0,
    data_dir: str | None = None,
    verbose: int = 1,
):
    """Trains a judge classifier on a labelled dataset's training split and saves it.

    Args:
        dataset: A labelled dataset spec (`folder:PATH` with class folders, `cifar10`, `imagenette/320px-v2`,
            an `npz:` file with labels).
        out: The `.keras` file to write; `out` with `.json` beside it records the class names and accuracies.
        split: The split it trains on: `"train"`, or for TFDS datasets a slice such as `"train[:10000]"`.
        image_size: Side of the photos it trains on (the size of the colorizations it will judge); the network
            sees them at `min(image_size, JUDGE_IMAGE_SIZE)`.
        epochs: Passes over the training split; the learning rate follows a cosine decay to 0.
        batch_size: Photos per step.
        width: See `build_judge_classifier`.
        learning_rate: Initial Adam learning rate.
        seed: Seeds weights, order and augmentation.
        data_dir: TFDS data folder.
        verbose: Keras `fit` verbosity.

    Returns:
        `(classifier, info)`: the trained Keras model and the dict written to the `.json` file (class names,
        training and validation accuracy).

    Raises:
        ValueError: the dataset has no labels, or `out` does not end in `.keras`.
    """
    import keras

    from kcolor.data import class_names, load_arrays, load_dataset

    out = Path(out)
    if out.suffix != ".keras":
        raise ValueError(f"the judge is saved as a .keras file; got {out}.")
    keras.utils.set_random_seed(seed)
    train = load_dataset(dataset, split, image_size, batch_size, seed=seed, with_labels=True, data_dir=data_dir)
    validation_images, validation_labels = load_arrays(dataset, "validation", image_size, data_dir=data_dir)
    if validation_labels is None or (validation_labels < 0).any():
        raise ValueError(f"{dataset} has no class labels: a judge needs a labelled dataset (e.g. class folders).")
    names = class_names(dataset)
    num_classes = len(names) if names else int(validation_labels.max()) + 1
    classifier = build_judge_classifier(num_classes, width=width, input_size=min(image_size, JUDGE_IMAGE_SIZE))
    steps = epochs * _count_batches(train)
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=max(1, steps))
    classifier.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    history = classifier.fit(train, epochs=epochs, verbose=verbose)
    judge = SemanticJudge(classifier)
    info = {
        "dataset": str(dataset),
        "split": split,
        "class_names": names,
        "image_size": image_size,
        "epochs": epochs,
        "train_accuracy": float(history.history["accuracy"][-1]),
        "validation_accuracy": judge.accuracy(validation_images, validation_labels),
        "validation_gray_accuracy": judge.accuracy(gray_reference(validation_images), validation_labels),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    classifier.save(out)
    out.with_suffix(".json").write_text(json.dumps(info, indent=2) + "\n")
    return classifier, info


def load_judge(path: str | Path) -> SemanticJudge:
    """Loads a judge saved by `train_judge` (a `.keras` file; safe mode)."""
    import tempfile

    import keras

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
        classifier, class_indices=indices, preprocess=preprocess, image_size=image_size, name=f"{architecture} (ImageNet)"
    )


def _percent(value: float) -> str:
    return "–" if np.isnan(value) else f"{value:.0%}"


def _is_keras_layer(model) -> bool:
    import keras

    return isinstance(model, keras.layers.Layer)


def _count_batches(dataset) -> int:
    try:
        return len(dataset)
    except TypeError:
        cardinality = int(dataset.cardinality())
        return cardinality if cardinality > 0 else sum(1 for _ in dataset)


IMAGENET_PREFIX = "imagenet:"


def judge_from_spec(spec: str) -> SemanticJudge:
    """A judge from a command-line spec: a `.keras` file written by `train_judge`, or `imagenet:ARCHITECTURE`.

    Example:
        >>> judge_from_spec("runs/judge/judge.keras")   # doctest: +SKIP
        >>> judge_from_spec("imagenet:EfficientNetB0")  # Imagenette only; downloads the weights once
    """
    if str(spec).startswith(IMAGENET_PREFIX):
        return imagenet_judge(str(spec)[len(IMAGENET_PREFIX) :] or "EfficientNetB0")
    return load_judge(spec)
