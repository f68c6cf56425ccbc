"""Input-pipeline throughput: decoded, augmented uint8 batches per second and per CPU-second, per source and consumer.

Two consumers ("paths") read each source: `load_dataset` (the pipeline `kcolor.data.load_dataset(spec, "train")`
returns, iterated as `fit` would) and `train` (what `kcolor train` and the course give `fit`: a
`kcolor.training_data.TrainingStream`, through `kcolor.training_data.fit_input` on TensorFlow, Keras's NumPy
adapter otherwise). Sources: `sample`, `npz`, `folder`, `folder-uncached` and `tfds` (kcolor's real TFDS code on
mocked data); their images come from `benchmarks.pipeline_data`.

One pipeline runs at a time in this process, so the process's CPU time is that pipeline's. What each number means,
and how to read them on a shared machine: benchmarks/README.md#input-pipeline. An A/B against a git revision runs
this module in the revision's checkout too, one process per round (`benchmarks.ab`).
"""

import contextlib
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

# The test data moved to benchmarks.pipeline_data; these names stay importable from here.
from benchmarks.pipeline_data import (  # noqa: F401
    CIFAR_MAX_SIZE,
    TFDS_TRAIN_EXAMPLES,
    mocked_tfds,
    photo_files,
    prepare_data,
)
from benchmarks.timing import summarize

SOURCES = ("sample", "npz", "folder", "folder-uncached", "tfds")
PATHS = ("load_dataset", "train")
WORKING_TREE = "working tree"


def _cpu_seconds():
    return time.process_time()  # every thread of this process, at clock_gettime resolution


class Reader:
    """A pipeline of one source and consumer, built by the `kcolor` this process imports, read batch by batch.

    Building it is timed (`setup_s`, `setup_cpu_s`); `read` times batches.

    Args:
        source: one of `SOURCES` (`tfds` reads `tfds_data` through `mocked_tfds`).
        path: one of `PATHS`.
        spec: the dataset spec of the source (`benchmarks.pipeline_data.prepare_data`'s `specs`).
        cache: whether `load_dataset` caches the decoded images.
        image_size: the crop size.
        batch: images per batch.
        images: images per pass of the source.
        tfds_data: the mocked TFDS examples (None for other sources).
        reads: batches to be read after the first pass (the `train` path's stream is one Keras epoch long).

    Example:

    ```python
    reader = Reader("sample", "train", "sample", True, 32, 4, 8, None, 1)
    seconds, cpu_seconds = reader.read(reader.batches_per_pass)
    reader.close()
    ```
    """

    def __init__(self, source, path, spec, cache, image_size, batch, images, tfds_data, reads):
        self.source, self.path, self.spec, self.cache = source, path, spec, cache
        self.image_size, self.batch, self.tfds_data = image_size, batch, tfds_data
        self.batches_per_pass = max(1, images // batch)
        self.total_batches = self.batches_per_pass + reads  # all this reader will be asked for
        self.end_epoch = None  # ends the stream's epoch (`close`)
        with self.context():
            cpu, start = _cpu_seconds(), time.perf_counter()
            self.kind, self._iterator = self._build()
            self.setup_s, self.setup_cpu_s = time.perf_counter() - start, _cpu_seconds() - cpu

    @contextlib.contextmanager
    def context(self):
        """The mocked TFDS while building or reading a `tfds` pipeline; nothing for the other sources."""
        with contextlib.ExitStack() as stack:
            if self.source == "tfds":
                stack.enter_context(mocked_tfds(self.tfds_data))
            yield

    def _build(self):
        import keras

        if self.path == "load_dataset":
            from kcolor.data import load_dataset

            dataset = load_dataset(self.spec, "train", image_size=self.image_size, batch_size=self.batch, seed=0,
                                   cache=self.cache, drop_remainder=True)
            if hasattr(dataset, "repeat"):
                return "tf.data", iter(dataset.repeat())
            return type(dataset).__name__, _cycle(dataset)
        from keras.src.trainers.data_adapters import get_data_adapter

        from kcolor import training_data
        from kcolor.training_data import TrainingStream, training_batches

        source = training_batches(self.spec, image_size=self.image_size, batch_size=self.batch, seed=0)
        # One Keras epoch of exactly the batches to be read: an iterator destroyed while its generator still
        # reads a TFDS pipeline can deadlock, one that has run out cannot.
        stream = TrainingStream(source, steps_per_epoch=self.total_batches)
        tensorflow = keras.backend.backend() == "tensorflow"
        if tensorflow and hasattr(training_data, "fit_input"):  # what `kcolor train` gives `fit` there
            dataset, (epochs,) = training_data.fit_input(stream)
            epochs.on_epoch_begin(0)
            self.end_epoch = lambda: epochs.on_epoch_end(0)
            return "TrainingStream, kcolor's tf.data view", iter(dataset)
        # Keras's adapter: on JAX, and on TensorFlow for a revision from before `fit_input`
        adapter = get_data_adapter(stream)
        adapter.on_epoch_begin()
        self.end_epoch = adapter.on_epoch_end
        if tensorflow:
            return "TrainingStream, Keras tf.data adapter", iter(adapter.get_tf_dataset())
        return "TrainingStream, Keras NumPy adapter", adapter.get_numpy_iterator()

    def read(self, count):
        """Reads `count` batches.

        Args:
            count: batches to read.

        Returns:
            `(seconds, CPU seconds)` of this process while reading them.

        Raises:
            ValueError: the last batch has another shape than `(batch, image_size, image_size, 3)`.
        """
        with self.context():
            cpu, start = _cpu_seconds(), time.perf_counter()
            for _ in range(count):
                images = next(self._iterator)
            seconds, cpu_seconds = time.perf_counter() - start, _cpu_seconds() - cpu
        images = images[0] if isinstance(images, tuple) else images  # the `train` path yields (x,)
        expected = (self.batch, self.image_size, self.image_size, 3)
        if tuple(images.shape) != expected:
            raise ValueError(f"{self.source}/{self.path} served a batch of shape {tuple(images.shape)}, not {expected}")
        return seconds, cpu_seconds

    def close(self):
        """Ends the `train` path's Keras epoch (nothing for `load_dataset`)."""
        if self.end_epoch is not None:
            with contextlib.suppress(Exception):
                self.end_epoch()


def _cycle(dataset):
    while True:
        yield from dataset


def _settle(limit_s=20.0, window_s=0.25):
    """Waits until this process is idle (its pipelines have refilled their buffers), at most `limit_s`."""
    deadline = time.perf_counter() + limit_s
    while time.perf_counter() < deadline:
        cpu = _cpu_seconds()
        time.sleep(window_s)
        if _cpu_seconds() - cpu < 0.05 * window_s:
            return


def _measure_one(source, path, spec, cache, image_size, batch, images, tfds_data, batches, repeats, drain, rounds):
    """The timings of one source and path over `rounds` fresh builds; returns `(record, readers, error)`."""
    record = {"setup": [], "first": [], "rates": [], "cpu_rates": [], "kind": None}
    readers = []
    for _ in range(rounds):
        try:
            reader = Reader(source, path, spec, cache, image_size, batch, images, tfds_data, drain + repeats * batches)
        except Exception as error:  # noqa: BLE001 - one failing row must not lose the others
            return record, readers, f"{type(error).__name__}: {error}"
        seconds, cpu_seconds = reader.read(reader.batches_per_pass)  # setup counts: Keras reads ahead
        record["setup"].append(reader.setup_s)
        first_images = reader.batches_per_pass * batch
        record["first"].append((first_images / (reader.setup_s + seconds),
                                first_images / max(reader.setup_cpu_s + cpu_seconds, 1e-9)))
        reader.read(drain)
        for _ in range(repeats):
            seconds, cpu_seconds = reader.read(batches)
            record["rates"].append(batches * batch / seconds)
            record["cpu_rates"].append(batches * batch / max(cpu_seconds, 1e-9))
        record["kind"] = reader.kind
        readers.append(reader)
        _settle()
    return record, readers, None


def measure_pipelines(image_size, batch, sources, paths, data, tfds_data, batches, repeats, drain, rounds=2,
                      version=WORKING_TREE):  # fmt: skip
    """Rows of every source x path at one image size and batch, built by the `kcolor` this process imports.

    Each pipeline is built afresh in each of `rounds` rounds, read for one pass (the first epoch), `drain`
    batches more, then `repeats` windows of `batches` batches back to back; then it is retired. A retired
    pipeline is kept, not destroyed (destroying a `tf.data` iterator that is still prefetching can block for
    seconds), and the process waits until it is idle before the next one starts.

    Args:
        image_size: the crop size.
        batch: images per batch.
        sources: some of `SOURCES`.
        paths: some of `PATHS` (`train` only for cached sources: `kcolor train` always caches local data).
        data: `{"specs": ..., "images": count, "origin": ...}` from `prepare_data`.
        tfds_data: the mocked TFDS examples from `prepare_data`.
        batches: batches per timed window.
        repeats: timed windows per round.
        drain: batches read untimed after the first pass.
        rounds: fresh builds of each pipeline.
        version: the label of the rows' `version` (`working tree`, or the revision of an A/B run).

    Returns:
        One row per source and path: `setup_s`, `first_pass_images_per_second`,
        `first_pass_images_per_cpu_second` (medians over the rounds), `images_per_second` and
        `images_per_cpu_second` (`summarize` dicts over every window), or `error` if it could not be built.
    """
    rows, retired = [], []
    if "tfds" in sources:  # pay TFDS's and tf.data's one-time costs (imports, first traces) before any timing
        spec, _ = data["specs"]["tfds"]
        warm_up = Reader("tfds", "load_dataset", spec, True, image_size, batch, batch, tfds_data, 1)
        warm_up.read(1)
        retired.append(warm_up)
        _settle()
    for source in sources:
        spec, cache = data["specs"][source]
        images = len(tfds_data[1]) if source == "tfds" else data["images"]
        for path in paths:
            if path == "train" and not cache:
                continue  # kcolor train always caches local datasets
            record, readers, error = _measure_one(source, path, spec, cache, image_size, batch, images, tfds_data,
                                                  batches, repeats, drain, rounds)  # fmt: skip
            retired.extend(readers)
            base = {"source": source, "path": path, "version": version, "image_size": image_size, "batch": batch}
            if error:
                rows.append(dict(base, error=error))
            if not record["rates"]:
                continue
            rows.append(dict(
                base, spec=spec.split(":")[0], cache=cache, pipeline=record["kind"], images=images,
                setup_s=float(np.median(record["setup"])),
                first_pass_images_per_second=float(np.median([first[0] for first in record["first"]])),
                first_pass_images_per_cpu_second=float(np.median([first[1] for first in record["first"]])),
                images_per_second=summarize(record["rates"]), images_per_cpu_second=summarize(record["cpu_rates"]),
                batches=batches, drain=drain, repeats=repeats, rounds=len(record["setup"]), data=data["origin"],
            ))  # fmt: skip
    for reader in retired:
        reader.close()
    RETIRED.extend(retired)  # destroyed when the process ends (the worker ends without destroying them)
    return rows


RETIRED = []


def run_pipeline_task(task):
    """The worker's `pipeline` task: every shape, source and path, with this process's `kcolor`.

    Args:
        task: `shapes` (`[preset, batch]` pairs), `sources`, `paths`, `images`, `batches`, `drain`, `repeats`,
            `rounds`, `tfds_examples`, the data (`dataset`, `npz`, `photos`: `prepare_data`) and `version` (the
            rows' label; default `working tree`).

    Returns:
        The rows of `measure_pipelines` for every shape.

    Example:

    ```python
    run_pipeline_task({"shapes": [["nazeri-cifar", 32]], "sources": ["npz"], "paths": ["load_dataset"],
                       "images": 256, "batches": 4, "drain": 2, "repeats": 3, "rounds": 1})
    ```
    """
    from kcolor.models import get_preset

    shapes = []
    for preset, batch in task["shapes"]:
        if (get_preset(preset).image_size, batch) not in shapes:
            shapes.append((get_preset(preset).image_size, batch))
    rows = []
    with tempfile.TemporaryDirectory(prefix="kcolor-bench-") as directory:
        for image_size, batch in shapes:
            specs, tfds_data, origin = prepare_data(directory, image_size, task["images"], task.get("npz"),
                                                    task.get("photos"), tfds_examples=task.get("tfds_examples"),
                                                    dataset=task.get("dataset", "sample"))  # fmt: skip
            data = {"specs": specs, "images": origin["images"], "origin": origin}
            rows.extend(measure_pipelines(
                image_size, batch, task["sources"], task.get("paths", PATHS), data, tfds_data, task["batches"],
                task["repeats"], task.get("drain", 12), task.get("rounds", 2), task.get("version", WORKING_TREE),
            ))  # fmt: skip
            shutil.rmtree(Path(directory) / f"{image_size}px", ignore_errors=True)
    return rows
