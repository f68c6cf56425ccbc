"""Averaged photo generators: several GAN checkpoints' weights, averaged into one model (a "model soup").

The photo GAN's colors swing from run to run: seeds of one recipe, started from the same L1 warm-up, paint the
same photo in different hues, and most of the difference is chance. Wortsman et al. (2022) average the weights of
models fine-tuned from one starting point instead of their outputs: the average runs as fast as one member, and
where the members share a basin it behaves like their ensemble. For a colorizer that means the hues the members
agree on (the sky, the grass, the class's usual colors) stay, and those they disagree on fade towards gray. This
module averages every weight of generators that share one architecture, batch-norm statistics included, and
saves the average as a `.keras` file that `kcolor colorize --model` and `benchmarks.photo_blobs` read.

```
python -m benchmarks.photo_soup --out runs/photo/soup.keras \
    runs/photo/s1/generators/epoch_001.keras runs/photo/s2/generators/epoch_001.keras
```
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def average_generators(models, weights=None):
    """One generator whose every weight is the (weighted) mean of the same weight in `models`.

    Args:
        models: Two or more generators, each a run folder, a `.keras` file or `pretrained[:NAME]`
            (`kcolor.model_files.load_generator`), with the same architecture.
        weights: One non-negative number per model, its share of the mean (normalised to sum 1); default equal.

    Returns:
        The first model's generator, its weights replaced by the float32 mean.

    Raises:
        ValueError: fewer than two models, `weights` of the wrong length, negative or all zero, or models whose
            weights differ in number or shape.

    Example:

    ```python
    soup = average_generators(["runs/a/generators/epoch_001.keras", "runs/b/generators/epoch_001.keras"])
    ```
    """
    import numpy as np
    from keras import ops

    from kcolor.model_files import load_generator

    models = list(models)
    if len(models) < 2:
        raise ValueError(f"averaging needs at least two generators, got {len(models)}.")
    shares = np.ones(len(models)) if weights is None else np.asarray(weights, dtype=np.float64)
    if shares.shape != (len(models),) or (shares < 0).any() or shares.sum() == 0:
        raise ValueError(f"weights must be {len(models)} non-negative numbers, not all zero; got {weights!r}.")
    shares = shares / shares.sum()

    soup = load_generator(models[0])
    total = [shares[0] * ops.convert_to_numpy(weight).astype(np.float64) for weight in soup.weights]
    shapes = [value.shape for value in total]
    for model, share in zip(models[1:], shares[1:]):
        values = [ops.convert_to_numpy(weight) for weight in load_generator(model).weights]
        if [value.shape for value in values] != shapes:
            raise ValueError(
                f"{model} does not have the architecture of {models[0]}: its weights differ in number or shape."
            )
        total = [sum_so_far + share * value.astype(np.float64) for sum_so_far, value in zip(total, values)]
    for weight, value in zip(soup.weights, total):
        weight.assign(value.astype(weight.dtype))
    return soup


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="+", help="generators to average: run folders or .keras files")
    parser.add_argument("--out", required=True, help="the averaged generator's .keras file")
    parser.add_argument("--weights", type=float, nargs="+", help="one share per model (default: equal)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    if out.suffix != ".keras":
        parser.error(f"--out must end in .keras, got {out}")
    soup = average_generators(args.models, args.weights)
    out.parent.mkdir(parents=True, exist_ok=True)
    soup.save(out)
    facts = {"models": args.models, "weights": args.weights or [1.0] * len(args.models)}
    out.with_suffix(".json").write_text(json.dumps(facts, indent=2) + "\n")
    print(json.dumps(facts))


if __name__ == "__main__":
    main()
