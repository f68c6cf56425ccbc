"""`fit` end to end: a real input pipeline and the train step together, and how often the step is traced."""

import importlib
import time

from benchmarks.peak import backend
from benchmarks.timing import summarize
from benchmarks.train import build_networks


def measure_fit(config, spec, steps, repeats):
    """images/s of `ColorizationGAN.fit` on `load_dataset(spec)`, and the number of train-step traces.

    The first of `1 + repeats` epochs compiles and is not counted; each epoch is `steps` batches. A step traced
    more than once or twice means `fit` retraces (a shape or dtype that changes between batches).

    Args:
        config: `preset`, `width`, `batch`, `xla`, `precision`.
        spec: the dataset spec (`npz:PATH`, ...), read as `kcolor.data.load_dataset(spec, "train")`.
        steps: batches per epoch.
        repeats: timed epochs.

    Returns:
        A row: the config, `images_per_second` (a `summarize` dict over the timed epochs), `step_traces`.

    Example:

    ```python
    row = measure_fit({"preset": "nazeri-cifar", "width": 0.25, "batch": 32, "xla": False,
                       "precision": "float32"}, "sample", steps=5, repeats=3)
    ```
    """
    import keras

    from kcolor.data import load_dataset
    from kcolor.gan import ColorizationGAN
    from kcolor.models import get_preset

    keras.utils.set_random_seed(0)
    preset, width, batch = config["preset"], config["width"], config["batch"]
    image_size = get_preset(preset).image_size
    generator, discriminator = build_networks(preset, width, config["precision"])
    gan = ColorizationGAN(generator, discriminator)
    gan.compile(jit_compile=config["xla"])
    steps_module = importlib.import_module(f"kcolor.gan.{backend()}_steps")
    original, traces = steps_module.train_step, []

    def counting_train_step(*args, **kwargs):  # the step's Python body runs only when it is traced
        traces.append(1)
        return original(*args, **kwargs)

    steps_module.train_step = counting_train_step
    times = []

    class EpochTimer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.start)

    try:
        data = load_dataset(spec, "train", image_size=image_size, batch_size=batch, seed=0, drop_remainder=True)
        if hasattr(data, "repeat"):
            data = data.repeat()
        gan.fit(data, epochs=1 + repeats, steps_per_epoch=steps, verbose=0, shuffle=False, callbacks=[EpochTimer()])
    finally:
        steps_module.train_step = original
    rates = [steps * batch / seconds for seconds in times[1:]]  # epoch 1 compiles
    return dict(config, backend=backend(), spec=spec.split(":")[0], image_size=image_size, steps=steps,
                images_per_second=summarize(rates), step_traces=len(traces), epochs=1 + repeats)
