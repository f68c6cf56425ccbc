"""Semantic help for the photo generator: its encoder first learns to name the class of gray photos.

Iizuka et al. (2016) and Zhang et al. (2016) both argue that a colorizer picks the right hue more often when it
knows what the photo shows. Imagenette has class labels, so the U-Net's encoder can be taught them before it
learns color: `build_encoder_classifier` puts a pooled linear head on the generator's bottleneck, this module
trains it on the gray (L*) training photos with cross-entropy, and saves the whole generator, encoder trained and
decoder untouched, as a `.keras` file that `kcolor train --initial-generator` starts from. The L1 warm-up and the
GAN phase then run as usual, so the comparison with a warm-up from random weights is one flag.

```
python -m benchmarks.photo_semantic --dataset folder:runs/photo/data/final --width-multiplier 0.5 \
    --epochs 10 --out runs/photo/semantic/generator.keras
```

`--probe NAME=MODEL` (repeatable) measures instead how much of the classes a generator's encoder knows, by a
linear probe on its frozen features (`linear_probe`): whether a warm-up or a GAN phase forgets what pretraining
taught.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def build_encoder_classifier(generator, num_classes: int, *, dropout: float = 0.3):
    """The generator's encoder with a classification head on its bottleneck.

    The head is global average pooling, dropout and one dense layer; its layers are new, every other layer is
    the generator's own (shared, not copied), so training the classifier trains the generator's encoder.

    Args:
        generator: A U-Net generator from `kcolor.models.build_generator` (its encoder blocks are named
            `encoder_<index>`).
        num_classes: Number of classes.
        dropout: Dropout rate before the dense layer.

    Returns:
        A functional `keras.Model` from the generator's lightness input to `(batch, num_classes)` logits.

    Raises:
        ValueError: `num_classes` is below 2, or `generator` has no `encoder_<index>_activation` layers.

    Example:

    ```python
    generator = build_generator("photo-128", width_multiplier=0.5)
    classifier = build_encoder_classifier(generator, 10)
    ```
    """
    import keras
    from keras import layers

    if num_classes < 2:
        raise ValueError(f"a classifier needs at least 2 classes, got {num_classes}.")
    x = layers.GlobalAveragePooling2D(name="class_pool")(generator.get_layer(bottleneck_name(generator)).output)
    x = layers.Dropout(dropout, name="class_dropout")(x)
    logits = layers.Dense(num_classes, dtype="float32", name="class_logits")(x)
    return keras.Model(generator.input, logits, name="encoder_classifier")


def bottleneck_name(generator) -> str:
    """The name of the generator's deepest encoder activation, the features a class head reads.

    Raises:
        ValueError: `generator` has no `encoder_<index>_activation` layers.
    """
    blocks = [layer.name for layer in generator.layers if layer.name.startswith("encoder_")]
    activations = [name for name in blocks if name.endswith("_activation")]
    if not activations:
        raise ValueError(f"{generator.name} has no encoder_<index>_activation layers: build it with build_generator.")
    return max(activations, key=lambda name: int(name.split("_")[1]))


def linear_probe(generators, dataset, *, image_size=128, epochs=300, seed=0) -> dict:
    """How much of the photos' class each generator's encoder still knows: a linear probe on gray photos.

    The encoder is frozen; its bottleneck features, averaged over the image, are computed for the center crops
    of the gray (L*) training and validation photos, and one softmax layer is fitted to the training features
    (full batch, Adam). A warm-up or GAN phase that forgets the classes taught by `pretrain_encoder` shows as a
    lower validation accuracy than the pretrained encoder's; a randomly initialised encoder gives the floor.

    Args:
        generators: Name to generator (a `.keras` file, a run folder, `pretrained`, or a built model).
        dataset: A labelled dataset spec (`folder:PATH` with class folders).
        image_size: Side of the center crops.
        epochs: Full-batch steps of the softmax layer.
        seed: Seeds the softmax layer's initial weights.

    Returns:
        Name to `{"train_accuracy", "validation_accuracy"}`, and `"photos"`: the train and validation counts.

    Raises:
        ValueError: the dataset has no class labels.
    """
    import keras
    import numpy as np

    from kcolor.color import rgb_to_model_inputs
    from kcolor.data import load_arrays
    from kcolor.model_files import load_generator

    names, validation_images, validation_labels = labelled_validation(dataset, image_size, "the probe")
    split = {"train": load_arrays(dataset, "train", image_size), "validation": (validation_images, validation_labels)}

    def features(encoder, images):
        lightness = [rgb_to_model_inputs(images[start : start + 64])[0] for start in range(0, len(images), 64)]
        return np.concatenate([keras.ops.convert_to_numpy(encoder(batch, training=False)) for batch in lightness])

    results = {"photos": {part: int(len(labels)) for part, (_, labels) in split.items()}}
    for name, model in generators.items():
        generator = model if isinstance(model, keras.Model) else load_generator(model)
        pooled = keras.layers.GlobalAveragePooling2D()(generator.get_layer(bottleneck_name(generator)).output)
        encoder = keras.Model(generator.input, pooled)
        train_x, validation_x = (features(encoder, split[part][0]) for part in ("train", "validation"))
        mean, scale = train_x.mean(axis=0), train_x.std(axis=0) + 1e-6
        keras.utils.set_random_seed(seed)
        head = keras.Sequential([keras.Input(train_x.shape[1:]), keras.layers.Dense(len(names))])
        head.compile(keras.optimizers.Adam(1e-2), keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                     metrics=["accuracy"])  # fmt: skip
        train_y, validation_y = split["train"][1], split["validation"][1]
        head.fit((train_x - mean) / scale, train_y, batch_size=len(train_x), epochs=epochs, verbose=0)
        results[name] = {
            "train_accuracy": float(head.evaluate((train_x - mean) / scale, train_y, verbose=0)[1]),
            "validation_accuracy": float(head.evaluate((validation_x - mean) / scale, validation_y, verbose=0)[1]),
        }
    return results


def labelled_validation(dataset: str, image_size: int, purpose: str):
    """`(class names, validation images, labels)` of a labelled dataset.

    Raises:
        ValueError: the dataset has no class labels (`purpose` says what needed them).
    """
    from kcolor.data import class_names, load_arrays

    names = class_names(dataset)
    images, labels = load_arrays(dataset, "validation", image_size)
    if not names or labels is None or (labels < 0).any():
        raise ValueError(f"{dataset} has no class labels: {purpose} needs class folders.")
    return names, images, labels


def build_generator_and_classifier(preset: str, width_multiplier: float, num_classes: int, mixed_precision: bool):
    """A generator and its `build_encoder_classifier`, built under the training dtype policy.

    `mixed_precision` asks for what `kcolor train --mixed-precision auto` uses: mixed bfloat16 on a CPU that computes
    bfloat16 natively, float32 on one that would emulate it (and crawl), mixed float16 on a GPU.

    Returns:
        `(generator, classifier, policy name)`; the global dtype policy is left as it was.
    """
    import keras

    from kcolor.devices import default_mixed_precision_policy
    from kcolor.models import build_generator

    policy = default_mixed_precision_policy() if mixed_precision else "float32"
    previous_policy = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        generator = build_generator(preset, width_multiplier=width_multiplier)
        return generator, build_encoder_classifier(generator, num_classes), policy
    finally:
        keras.config.set_dtype_policy(previous_policy)


def classifier_weights_path(generator_path) -> Path:
    """Where `pretrain_encoder` saves the classifier's weights, beside the generator file `generator_path`."""
    return Path(generator_path).with_suffix(".classifier.weights.h5")


def gray_accuracy(classifier, images, labels) -> float:
    """Top-1 accuracy of `classifier` on the L* of uint8 RGB `images` (a `SemanticJudge` that sees only L*)."""
    from kcolor.color import rgb_to_model_inputs
    from kcolor.evaluation.semantic_judge import SemanticJudge

    def lightness(rgb):  # the judge hands over float32 RGB in [0, 255]
        return rgb_to_model_inputs(rgb / 255.0)[0]

    return SemanticJudge(classifier, preprocess=lightness).accuracy(images, labels)


def pretrain_encoder(
    dataset: str,
    out: str | Path,
    *,
    preset: str = "photo-128",
    width_multiplier: float = 0.5,
    image_size: int = 128,
    epochs: int = 10,
    batch_size: int = 32,
    learning_rate: float = 1e-3,
    seed: int = 0,
    mixed_precision: bool = False,
    verbose: int = 2,
) -> dict:
    """Trains a generator's encoder to classify gray photos and saves the generator.

    Args:
        dataset: A labelled dataset spec (`folder:PATH` with class folders).
        out: The generator `.keras` file to write; a `.json` beside it records the accuracies and the options, and
            `classifier_weights_path(out)` holds the whole classifier's weights, head included (for
            `benchmarks.photo_class_warmup`, which keeps naming the class while the generator learns color).
        preset: The generator's preset.
        width_multiplier: The generator's width multiplier.
        image_size: Side of the training crops.
        epochs: Passes over the training split; Adam's learning rate follows a cosine decay to 0.
        batch_size: Photos per step.
        learning_rate: Initial Adam learning rate.
        seed: Seeds weights, order and augmentation.
        mixed_precision: Train in mixed precision where it is faster, as `kcolor train --mixed-precision auto`
            (mixed bfloat16 on a CPU that computes bfloat16 natively, float32 on one that would emulate it); the
            saved weights are float32 either way.
        verbose: Keras `fit` verbosity.

    Returns:
        The dict written to the `.json` file.

    Raises:
        ValueError: the dataset has no labels, or `out` does not end in `.keras`.
    """
    import keras

    from benchmarks.photos import float32_generator
    from kcolor.color import rgb_to_model_inputs
    from kcolor.data import load_dataset
    from kcolor.evaluation.judge_training import count_batches

    out = Path(out)
    if out.suffix != ".keras":
        raise ValueError(f"the generator is saved as a .keras file; got {out}.")
    keras.utils.set_random_seed(seed)
    names, validation_images, validation_labels = labelled_validation(dataset, image_size, "pretraining the encoder")
    train = load_dataset(dataset, "train", image_size, batch_size, seed=seed, with_labels=True)
    train = train.map(lambda images, labels: (rgb_to_model_inputs(images)[0], labels))
    steps = epochs * count_batches(train)
    generator, classifier, policy = build_generator_and_classifier(
        preset, width_multiplier, len(names), mixed_precision
    )
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=max(1, steps))
    classifier.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    started = time.perf_counter()
    history = classifier.fit(train, epochs=epochs, verbose=verbose)
    seconds = time.perf_counter() - started
    info = {
        "dataset": str(dataset),
        "preset": preset,
        "width_multiplier": width_multiplier,
        "image_size": image_size,
        "epochs": epochs,
        "batch_size": batch_size,
        "learning_rate": learning_rate,
        "seed": seed,
        "mixed_precision": mixed_precision,
        "dtype_policy": policy,
        "fit_seconds": round(seconds, 1),
        "train_accuracy": float(history.history["accuracy"][-1]),
        "validation_gray_accuracy": gray_accuracy(classifier, validation_images, validation_labels),
        "validation_photos": int(len(validation_images)),
        "class_names": names,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    float32_generator(generator, preset, width_multiplier).save(out)  # float32 weights, as kcolor saves runs
    classifier.save_weights(classifier_weights_path(out))
    out.with_suffix(".json").write_text(json.dumps(info, indent=2) + "\n")
    return info


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", required=True, help="a labelled dataset, e.g. folder:runs/photo/data/final")
    parser.add_argument("--out", help="the generator .keras file to write")
    parser.add_argument("--probe", action="append", metavar="NAME=MODEL",
                        help="instead of training: a linear probe of this generator's encoder; repeat for more")
    parser.add_argument("--preset", default="photo-128")
    parser.add_argument("--width-multiplier", type=float, default=0.5)
    parser.add_argument("--image-size", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--mixed-precision", action="store_true",
                        help="train in mixed precision where this machine computes it natively")
    args = parser.parse_args(argv)
    if args.probe:
        from benchmarks.photos import named_models

        probe = linear_probe(named_models(args.probe), args.dataset, image_size=args.image_size, seed=args.seed)
        print(json.dumps(probe, indent=2))
        return
    if not args.out:
        parser.error("--out is required to train (or pass --probe NAME=MODEL)")
    info = pretrain_encoder(
        args.dataset, args.out, preset=args.preset, width_multiplier=args.width_multiplier,
        image_size=args.image_size, epochs=args.epochs, batch_size=args.batch_size,
        learning_rate=args.learning_rate, seed=args.seed, mixed_precision=args.mixed_precision,
    )  # fmt: skip
    print(json.dumps({key: value for key, value in info.items() if key != "class_names"}, indent=2))


if __name__ == "__main__":
    main()
