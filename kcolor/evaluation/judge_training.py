"""Training a judge: a small convolutional classifier of color photos, fitted on a labelled data set.

`build_judge_classifier` makes the network and `train_judge` fits it on a data set's training split and saves
it (`kcolor judge train`), with a `.json` beside it that records the class names and the judge's accuracy on
the validation photos in color and in gray. `kcolor.evaluation.semantic_judge.load_judge` loads it back.
"""

from __future__ import annotations

import json
from pathlib import Path

from kcolor.evaluation.lab import gray_reference
from kcolor.evaluation.semantic_judge import SemanticJudge

JUDGE_IMAGE_SIZE = 64
"""Side at which `build_judge_classifier`'s network looks at a photo: color and coarse shape, cheap on a CPU."""

JUDGE_VIEWS = ("color", "chroma")
"""What a judge sees: `"color"` the whole photo (Zhang et al.'s test), `"chroma"` only its a*b* channels
(`kcolor.evaluation.chroma_view.ChromaOnly`), so that gray tells it nothing and only colors can close its gap."""


def build_judge_classifier(
    num_classes: int, *, width: int = 16, input_size: int = JUDGE_IMAGE_SIZE, view: str = "color", name="judge"
):
    """A small convolutional classifier of color photos, to train as a judge.

    Images of any size (float32 RGB in [0, 255]) are resized to `input_size`, then four blocks of two 3x3
    convolutions (batch norm, ReLU) and a 2x2 max-pool, `width` to 8 x `width` filters, global average pooling
    and a dense layer give one logit per class. Random flips and shifts augment the photos during training.
    With `view="chroma"` the convolutions see only the photo's a*b* channels (`ChromaOnly`).

    Args:
        num_classes: Number of classes.
        width: Filters of the first block.
        input_size: Side of the resized photos the network sees.
        view: One of `JUDGE_VIEWS`.
        name: Model name.

    Returns:
        A functional `keras.Model` from `(batch, H, W, 3)` to `(batch, num_classes)` logits.

    Raises:
        ValueError: If `num_classes` is below 2 or `view` is unknown.

    Example:

    ```python
    classifier = build_judge_classifier(10)   # Imagenette's ten classes
    colors_only = build_judge_classifier(10, input_size=32, view="chroma")
    ```
    """
    import keras
    from keras import layers

    if num_classes < 2:
        raise ValueError(f"a judge needs at least 2 classes, got {num_classes}.")
    if view not in JUDGE_VIEWS:
        raise ValueError(f"unknown judge view {view!r}: choose one of {', '.join(JUDGE_VIEWS)}.")
    images = keras.Input(shape=(None, None, 3), name="images")
    x = layers.Resizing(input_size, input_size, interpolation="bilinear", name="resize")(images)
    if view == "chroma":
        from kcolor.evaluation.chroma_view import ChromaOnly

        x = ChromaOnly(name="chroma")(x)  # a*b* / 110, about [-1, 1]
    x = layers.RandomFlip("horizontal", name="augment_flip")(x)
    x = layers.RandomTranslation(0.1, 0.1, fill_mode="reflect", name="augment_shift")(x)
    if view == "color":
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
    view: str = "color",
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
        view: What the judge sees, one of `JUDGE_VIEWS`: the whole photo, or only its colors (`"chroma"`).
        learning_rate: Initial Adam learning rate.
        seed: Seeds weights, order and augmentation.
        data_dir: TFDS data folder.
        verbose: Keras `fit` verbosity.

    Returns:
        `(classifier, info)`: the trained Keras model and the dict written to the `.json` file (class names,
        training and validation accuracy).

    Raises:
        ValueError: the dataset has no labels, or `out` does not end in `.keras`.

    Example:

    ```python
    classifier, info = train_judge("folder:photos", "runs/judge/judge.keras", epochs=12)
    info["validation_accuracy"], info["validation_gray_accuracy"]
    ```
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
    classifier = build_judge_classifier(num_classes, width=width, input_size=min(image_size, JUDGE_IMAGE_SIZE), view=view)
    steps = epochs * count_batches(train)
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
        "view": view,
        "train_accuracy": float(history.history["accuracy"][-1]),
        "validation_accuracy": judge.accuracy(validation_images, validation_labels),
        "validation_gray_accuracy": judge.accuracy(gray_reference(validation_images), validation_labels),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    classifier.save(out)
    out.with_suffix(".json").write_text(json.dumps(info, indent=2) + "\n")
    return classifier, info


def count_batches(dataset) -> int:
    """Batches in a Keras dataset or `tf.data.Dataset` (counted when its cardinality is unknown)."""
    try:
        return len(dataset)
    except TypeError:
        cardinality = int(dataset.cardinality())
        return cardinality if cardinality > 0 else sum(1 for _ in dataset)
