"""A class-guided L1 warm-up: the U-Net learns color while its encoder keeps naming what the photo shows.

`benchmarks.photo_semantic` teaches the generator's encoder the Imagenette classes from gray photos, and the L1
warm-up then trains the whole U-Net on color alone, free to forget them. Iizuka et al. (2016) train both at once:
their colorization loss plus a small weight times the class cross-entropy of a head on the network's global
features. This module does that for the warm-up. It starts from `pretrain_encoder`'s classifier (encoder and
head) and fits one model from the gray photo to `[ab, class logits]` with `L1 + class_weight x cross-entropy`,
under the settings of `kcolor train`'s warm-up (Adam 2e-4, beta_1 0.5, a 0.99 moving average of the weights,
batch 16). It saves the generator, which `kcolor train --initial-generator` continues with the GAN phase.

```
python -m benchmarks.photo_class_warmup --dataset folder:runs/photo/data/final \
    --encoder runs/photo/semantic/encoder.keras --epochs 8 --out runs/photo/classwarm/generator.keras
```
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

DEFAULT_CLASS_WEIGHT = 0.03


def build_color_and_class_model(generator, classifier):
    """One model from the generator's lightness input to `[ab, class logits]`, sharing every layer.

    Args:
        generator: The U-Net generator.
        classifier: `benchmarks.photo_semantic.build_encoder_classifier(generator, ...)`.

    Returns:
        A functional `keras.Model` with outputs named `ab` and `class_logits`.

    Raises:
        ValueError: `classifier` does not start from `generator`'s input (it was built on another generator).
    """
    import keras

    if classifier.input is not generator.input:
        raise ValueError("the classifier must be build_encoder_classifier(generator, ...) of this same generator.")
    outputs = {"ab": generator.output, "class_logits": classifier.output}
    return keras.Model(generator.input, outputs, name="color_and_class")


def class_guided_warmup(
    dataset: str,
    encoder: str | Path,
    out: str | Path,
    *,
    class_weight: float = DEFAULT_CLASS_WEIGHT,
    preset: str = "photo-128",
    width_multiplier: float = 0.5,
    image_size: int = 128,
    epochs: int = 8,
    batch_size: int = 16,
    learning_rate: float = 2e-4,
    moving_average: float = 0.99,
    seed: int = 0,
    mixed_precision: bool = False,
    verbose: int = 2,
) -> dict:
    """Trains the generator on L1 to the true ab plus `class_weight` x the class cross-entropy, and saves it.

    Args:
        dataset: A labelled dataset spec (`folder:PATH` with class folders).
        encoder: The generator file `benchmarks.photo_semantic.pretrain_encoder` wrote; its classifier weights
            (`classifier_weights_path(encoder)`) must lie beside it.
        out: The generator `.keras` file to write; a `.json` beside it records the losses, the gray-photo class
            accuracy before and after, and the options.
        class_weight: Weight of the cross-entropy against the L1 on normalised ab (0: the plain warm-up).
        epochs: Passes over the training split.
        batch_size: Photos per step.
        learning_rate: Adam's learning rate (beta_1 0.5, as `kcolor train`).
        moving_average: Momentum of the moving average of the weights that is saved (0: the raw weights).
        preset, width_multiplier, image_size, seed, mixed_precision, verbose: As for
            `benchmarks.photo_semantic.pretrain_encoder` (the seed fixes the order and the crops).

    Returns:
        The dict written to the `.json` file.

    Raises:
        ValueError: a negative `class_weight`, a dataset without labels, a missing classifier file, or an `out`
            that does not end in `.keras`.
    """
    import keras

    from benchmarks.photo_semantic import (
        build_generator_and_classifier,
        classifier_weights_path,
        gray_accuracy,
        labelled_validation,
    )
    from benchmarks.photos import float32_generator
    from kcolor.color import rgb_to_model_inputs
    from kcolor.data import load_dataset

    out, weights = Path(out), classifier_weights_path(encoder)
    if out.suffix != ".keras":
        raise ValueError(f"the generator is saved as a .keras file; got {out}.")
    if class_weight < 0:
        raise ValueError(f"class_weight must be zero or positive, got {class_weight}.")
    if not weights.exists():
        raise ValueError(f"{weights} is missing: run benchmarks.photo_semantic with --out {encoder} first.")
    names, validation_images, validation_labels = labelled_validation(dataset, image_size, "the class-guided warm-up")
    keras.utils.set_random_seed(seed)
    generator, classifier, policy = build_generator_and_classifier(
        preset, width_multiplier, len(names), mixed_precision
    )
    model = build_color_and_class_model(generator, classifier)
    classifier.load_weights(weights)
    accuracy_before = gray_accuracy(classifier, validation_images, validation_labels)

    def inputs_and_targets(images, labels):
        lightness, ab = rgb_to_model_inputs(images)
        return lightness, {"ab": ab, "class_logits": labels}

    train = load_dataset(dataset, "train", image_size, batch_size, seed=seed, with_labels=True, drop_remainder=True)
    average = dict(use_ema=True, ema_momentum=moving_average) if moving_average else {}
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate, beta_1=0.5, **average),
        loss={
            "ab": keras.losses.MeanAbsoluteError(),
            "class_logits": keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        },
        loss_weights={"ab": 1.0, "class_logits": class_weight},
        metrics={"class_logits": ["accuracy"]},
    )
    started = time.perf_counter()
    history = model.fit(train.map(inputs_and_targets), epochs=epochs, verbose=verbose)
    seconds = time.perf_counter() - started
    if moving_average:
        model.optimizer.finalize_variable_values(model.trainable_variables)
    last = {name: float(values[-1]) for name, values in history.history.items()}
    info = {
        "dataset": str(dataset),
        "encoder": str(encoder),
        "class_weight": class_weight,
        "preset": preset,
        "width_multiplier": width_multiplier,
        "image_size": image_size,
        "epochs": epochs,
        "batch_size": batch_size,
        "learning_rate": learning_rate,
        "moving_average": moving_average,
        "seed": seed,
        "mixed_precision": mixed_precision,
        "dtype_policy": policy,
        "fit_seconds": round(seconds, 1),
        "last_epoch": last,
        "validation_gray_accuracy_before": accuracy_before,
        "validation_gray_accuracy": gray_accuracy(classifier, validation_images, validation_labels),
        "validation_photos": int(len(validation_images)),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    float32_generator(generator, preset, width_multiplier).save(out)
    out.with_suffix(".json").write_text(json.dumps(info, indent=2) + "\n")
    return info


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", required=True, help="a labelled dataset, e.g. folder:runs/photo/data/final")
    parser.add_argument("--encoder", required=True, help="the generator file benchmarks.photo_semantic wrote")
    parser.add_argument("--out", required=True, help="the generator .keras file to write")
    parser.add_argument("--class-weight", type=float, default=DEFAULT_CLASS_WEIGHT)
    parser.add_argument("--preset", default="photo-128")
    parser.add_argument("--width-multiplier", type=float, default=0.5)
    parser.add_argument("--image-size", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--mixed-precision", action="store_true",
                        help="train in mixed precision where this machine computes it natively")
    args = parser.parse_args(argv)
    info = class_guided_warmup(
        args.dataset, args.encoder, args.out, class_weight=args.class_weight, preset=args.preset,
        width_multiplier=args.width_multiplier, image_size=args.image_size, epochs=args.epochs,
        batch_size=args.batch_size, seed=args.seed, mixed_precision=args.mixed_precision,
    )  # fmt: skip
    print(json.dumps(info, indent=2))


if __name__ == "__main__":
    main()
