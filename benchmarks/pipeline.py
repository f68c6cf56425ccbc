"""Input-pipeline measurements: decoded, augmented uint8 batches per second, per source and consumer.

Two consumers ("paths") read each source:

* `load_dataset`: the pipeline that `kcolor.data.load_dataset(spec, "train", ...)` returns (`tf.data` with
  TensorFlow), iterated as `gan.fit(load_dataset(...))` would read it.
* `train`: what `kcolor train` and the course notebooks read: `kcolor.training_data.training_batches` in a
  `TrainingStream`, as `fit` reads it there (`kcolor.training_data.fit_input`: a `tf.data` view with
  TensorFlow; Keras's NumPy iterator otherwise). Local sources are always cached on this path.

Sources: `sample`, `npz`, `folder` (cached), `folder-uncached` (`load_dataset` only) and `tfds`: the real TFDS
code path of `kcolor.data` under `tfds.testing.mock_data`, whose `as_dataset` serves the benchmark's images as
encoded files, as TFDS does (PNG for `cifar10`, as TFDS stores it; JPEG at 320 px height and 4:3 for
`imagenette/320px-v2`), repeated to the real training split's length (`TFDS_TRAIN_EXAMPLES`). The images
(`prepare_data`): at up to 32 px the CIFAR-10 subset as it is (32 x 32, so crops only flip); above, Imagenette
photos from a folder of class folders (the `folder` source reads the real files); without either, `sample` crops
somewhat larger than the crop.

Every row reports: setup seconds (building the pipeline, decoding the local files; on the `train` path the stream's
first batch is read to learn its shape, which for `tfds` means decoding every image that the shuffle buffer holds);
the first epoch's images/s and images/CPU-s, setup included (for `tfds` it decodes, filters, resizes and fills the
cache); the steady images/s (median of the timed windows); and the CPU seconds this process spent per image during
those windows, as *images per CPU-second*: the rate of one fully used core. On a loaded machine the wall-clock
rates drop with the share of the CPU the benchmark gets; the CPU cost per image changes much less.

One pipeline runs at a time (`measure_pipelines`), so the process's CPU time is that pipeline's: it is built,
read for a pass, `drain` batches more, then `repeats` windows of `batches` batches back to back, and retired.
With `revision`, every pipeline is also built with the `kcolor` package of that git revision (`git archive`,
imported in the same process under its own module objects), and the versions alternate round by round
(A, B, A, B) for an A/B on the same load.
"""

import contextlib
import importlib
import io
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.timing import summarize

SOURCES = ("sample", "npz", "folder", "folder-uncached", "tfds")
PATHS = ("load_dataset", "train")
CIFAR_MAX_SIZE = 32  # up to this crop size the CIFAR-10 images are used, above it the photos
TFDS_PHOTO_HEIGHT = 320  # imagenette/320px-v2: the shorter side is 320 px


def _cpu_seconds():
    return time.process_time()  # every thread of this process, at clock_gettime resolution


# --------------------------------------------------------------------------------------------------------------
# The data.


def photo_files(folder, count):
    """`count` image files of a folder of class folders, taken in turn from each class (sorted)."""
    from kcolor.data.folder import list_image_files

    by_class = {}
    for path in list_image_files(folder):
        by_class.setdefault(path.parent.name, []).append(path)
    queues = [paths for _, paths in sorted(by_class.items())]
    chosen = []
    while len(chosen) < count and any(queues):
        for paths in queues:
            if paths and len(chosen) < count:
                chosen.append(paths.pop(0))
    return chosen


def _encode(image, format_name, quality=90):
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format=format_name, **({"quality": quality} if format_name == "JPEG" else {}))
    return buffer.getvalue()


def _resized(image, height, width):
    from PIL import Image

    return np.asarray(Image.fromarray(image).resize((width, height), Image.BILINEAR))


TFDS_TRAIN_EXAMPLES = {"cifar10": 50_000, "imagenette/320px-v2": 9_469}
"""The real training split sizes: the mocked TFDS datasets repeat their images to this length, so that the costs
that come once a pass (a new iterator, refilling the shuffle buffer) weigh as they do in real training."""


def prepare_data(directory, image_size, count, cifar_npz=None, photos=None, tfds_examples=None):
    """Writes the benchmark's images as an npz file, a folder and encoded TFDS examples; returns them.

    `tfds_examples`: length of the mocked TFDS split (the images repeated); default `TFDS_TRAIN_EXAMPLES`,
    0 for just the images.

    Returns:
        `(specs, tfds_data, origin)`: `specs` maps each source to `(spec, cache)`; `tfds_data` is
        `(name, encoded files, labels, "png" or "jpeg")` for the mocked TFDS dataset; `origin` describes the data.
    """
    from PIL import Image

    from kcolor.data import read_image

    directory = Path(directory) / f"{image_size}px"
    folder = directory / "photos"
    folder.mkdir(parents=True, exist_ok=True)
    if image_size <= CIFAR_MAX_SIZE and cifar_npz and Path(cifar_npz).exists():
        with np.load(cifar_npz) as data:
            images, labels = data["images"][:count], data["labels"][:count].astype(np.int64)
        for index, image in enumerate(images):
            Image.fromarray(image).save(folder / f"{index:05d}.png")
        tfds_data = ("cifar10", [_encode(image, "PNG") for image in images], labels, "png")
        origin = f"{Path(cifar_npz).name}: {len(images)} CIFAR-10 images, 32 x 32 (folder: PNG files)"
    elif image_size > CIFAR_MAX_SIZE and photos and Path(photos).is_dir():
        files = photo_files(photos, count)
        classes = sorted({path.parent.name for path in files})
        labels = np.array([classes.index(path.parent.name) for path in files], np.int64)
        decoded = [read_image(path) for path in files]
        for path in files:
            target = folder / path.parent.name / path.name
            target.parent.mkdir(exist_ok=True)
            os.symlink(path.resolve(), target)
        side = min(min(image.shape[:2]) for image in decoded)
        images = np.stack([image if image.shape[:2] == (side, side) else _resized(image, side, side)
                           for image in decoded])
        width = TFDS_PHOTO_HEIGHT * 4 // 3
        encoded = [_encode(_resized(image, TFDS_PHOTO_HEIGHT, width), "JPEG") for image in decoded]
        tfds_data = ("imagenette/320px-v2", encoded, labels, "jpeg")
        origin = (f"{len(files)} photos of {Path(photos)} in {len(classes)} class folders (the folder source reads "
                  f"the files; npz: {side} x {side}; tfds: JPEG {TFDS_PHOTO_HEIGHT} x {width})")
    else:
        from kcolor.data import load_arrays

        file_size = max(image_size + image_size // 4, image_size + 8)  # larger than the crop: resize + crop
        images, _ = load_arrays("sample", "train", image_size=file_size, limit=count, seed=0)
        labels = np.arange(len(images), dtype=np.int64) % 10
        for index, image in enumerate(images):
            Image.fromarray(image).save(folder / f"{index:05d}.jpg", quality=90)
        name = "cifar10" if image_size <= CIFAR_MAX_SIZE else "imagenette/320px-v2"
        tfds_data = (name, [_encode(image, "PNG") for image in images], labels, "png")
        origin = f"{len(images)} sample crops of {file_size} px (folder: JPEG files)"
    np.savez(directory / "images.npz", images=images, labels=labels)
    name, encoded, tfds_labels, format_name = tfds_data
    length = TFDS_TRAIN_EXAMPLES.get(name, len(encoded)) if tfds_examples is None else tfds_examples
    if length > len(encoded):
        repeats = -(-length // len(encoded))
        tfds_data = (name, (encoded * repeats)[:length], np.tile(tfds_labels, repeats)[:length], format_name)
    specs = {
        "sample": ("sample", True),
        "npz": (f"npz:{directory / 'images.npz'}", True),
        "folder": (f"folder:{folder}", True),
        "folder-uncached": (f"folder:{folder}", False),
        "tfds": (tfds_data[0], True),
    }
    return specs, tfds_data, {"images": int(len(images)), "origin": origin}


@contextlib.contextmanager
def mocked_tfds(tfds_data):
    """`tfds.testing.mock_data` whose `as_dataset` serves `tfds_data`'s encoded images, as TFDS would.

    The images are decoded in a parallel map unless `decoders` asks for the encoded bytes
    (`tfds.decode.SkipDecoding`). A mocked builder knows no split sizes, and without one kcolor
    does not cache a split; the active `kcolor.data.tfds_source` is told the size, so that the
    pipeline caches as it does once a dataset is downloaded.
    """
    import tensorflow as tf
    import tensorflow_datasets as tfds

    _, encoded, labels, format_name = tfds_data
    decode = tf.io.decode_png if format_name == "png" else tf.io.decode_jpeg

    def as_dataset(self, split, decoders=None, read_config=None, **kwargs):
        examples = tf.data.Dataset.from_tensor_slices({"image": list(encoded), "label": labels})
        if decoders and isinstance(decoders.get("image"), tfds.decode.SkipDecoding):
            return examples
        return examples.map(lambda example: {"image": decode(example["image"], channels=3), "label": example["label"]},
                            num_parallel_calls=tf.data.AUTOTUNE)

    tfds_source = importlib.import_module("kcolor.data.tfds_source")
    split_size = tfds_source._split_size
    tfds_source._split_size = lambda builder, split_name: len(encoded)
    try:
        with tfds.testing.mock_data(as_dataset_fn=as_dataset):
            yield
    finally:
        tfds_source._split_size = split_size


# --------------------------------------------------------------------------------------------------------------
# kcolor versions: the working tree, and optionally a git revision, as separate sets of module objects.


class KcolorVersion:
    """One `kcolor` package's modules; `active()` puts them into `sys.modules` while building or reading."""

    def __init__(self, label, root=None):
        self.label, self.root = label, root
        self.modules = None

    @contextlib.contextmanager
    def active(self):
        saved = {name: module for name, module in sys.modules.items() if name == "kcolor" or name.startswith("kcolor.")}
        for name in saved:
            del sys.modules[name]
        if self.modules is None:
            if self.root:
                sys.path.insert(0, str(self.root))
            try:
                importlib.import_module("kcolor.data")
                importlib.import_module("kcolor.training_data")
            finally:
                if self.root:
                    sys.path.remove(str(self.root))
            self.modules = {}
        sys.modules.update(self.modules)
        try:
            yield
        finally:
            self.modules = {name: module for name, module in sys.modules.items()
                            if name == "kcolor" or name.startswith("kcolor.")}
            for name in self.modules:
                del sys.modules[name]
            sys.modules.update(saved)


def revision_root(revision, directory):
    """Extracts the `kcolor` package of git `revision` into `directory`; returns `directory`."""
    repository = Path(__file__).resolve().parent.parent
    archive = subprocess.run(["git", "archive", revision, "kcolor"], cwd=repository, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(directory)], input=archive.stdout, check=True)
    return directory


# --------------------------------------------------------------------------------------------------------------
# Readers: one pipeline, read batch by batch.


class Reader:
    """A pipeline of one source, consumer and kcolor version, read batch by batch."""

    def __init__(self, version, source, path, spec, cache, image_size, batch, images, tfds_data, reads):
        self.version, self.source, self.path, self.spec, self.cache = version, source, path, spec, cache
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
        with contextlib.ExitStack() as stack:
            stack.enter_context(self.version.active())
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
        # Keras's adapter: on JAX, and on TensorFlow for an A/B revision from before `fit_input`
        adapter = get_data_adapter(stream)
        adapter.on_epoch_begin()
        self.end_epoch = adapter.on_epoch_end
        if tensorflow:
            return "TrainingStream, Keras tf.data adapter", iter(adapter.get_tf_dataset())
        return "TrainingStream, Keras NumPy adapter", adapter.get_numpy_iterator()

    def read(self, count):
        """Reads `count` batches; returns `(seconds, CPU seconds)`."""
        with self.context():
            cpu, start = _cpu_seconds(), time.perf_counter()
            for _ in range(count):
                images = next(self._iterator)
            seconds, cpu_seconds = time.perf_counter() - start, _cpu_seconds() - cpu
        images = images[0] if isinstance(images, tuple) else images  # the `train` path yields (x,)
        assert tuple(images.shape) == (self.batch, self.image_size, self.image_size, 3), images.shape
        return seconds, cpu_seconds

    def close(self):
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


def measure_pipelines(image_size, batch, sources, paths, data, tfds_data, versions, batches, repeats, drain,
                      rounds=2):  # fmt: skip
    """Rows of every source x path x version at one image size and batch.

    One pipeline runs at a time, so the CPU time of the process is its own: for each source and path, each
    version is built afresh in each of `rounds` rounds (A, B, A, B, ...), read for one pass (the first epoch),
    `drain` batches more, then `repeats` windows of `batches` batches back to back; then it is retired. A
    retired pipeline is kept, not destroyed (destroying a `tf.data` iterator that is still prefetching can
    block for seconds), and the process waits until it is idle before the next one starts.
    """
    rows, retired = [], []
    if "tfds" in sources:  # pay TFDS's and tf.data's one-time costs (imports, first traces) before any timing
        for version in versions:
            spec, _ = data["specs"]["tfds"]
            warm_up = Reader(version, "tfds", "load_dataset", spec, True, image_size, batch, batch, tfds_data, 1)
            warm_up.read(1)
            retired.append(warm_up)
        _settle()
    for source in sources:
        spec, cache = data["specs"][source]
        images = len(tfds_data[1]) if source == "tfds" else data["images"]
        for path in paths:
            if path == "train" and not cache:
                continue  # kcolor train always caches local datasets
            measured = {version.label: {"setup": [], "first": [], "rates": [], "cpu_rates": []} for version in versions}
            failed = set()
            for _ in range(rounds):
                for version in versions:
                    if version.label in failed:
                        continue
                    try:
                        reader = Reader(version, source, path, spec, cache, image_size, batch, images, tfds_data,
                                        drain + repeats * batches)  # fmt: skip
                    except Exception as error:  # noqa: BLE001 - one failing row must not lose the others
                        failed.add(version.label)
                        rows.append({"source": source, "path": path, "version": version.label, "image_size": image_size,
                                     "batch": batch, "error": f"{type(error).__name__}: {error}"})
                        continue
                    record = measured[version.label]
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
                    retired.append(reader)
                    _settle()
            for label, record in measured.items():
                if not record["rates"]:
                    continue
                rows.append({
                    "source": source, "path": path, "version": label, "spec": spec.split(":")[0], "cache": cache,
                    "image_size": image_size, "batch": batch, "pipeline": record["kind"], "images": images,
                    "setup_s": float(np.median(record["setup"])),
                    "first_pass_images_per_second": float(np.median([first[0] for first in record["first"]])),
                    "first_pass_images_per_cpu_second": float(np.median([first[1] for first in record["first"]])),
                    "images_per_second": summarize(record["rates"]),
                    "images_per_cpu_second": summarize(record["cpu_rates"]),
                    "batches": batches, "drain": drain, "repeats": repeats, "rounds": rounds, "data": data["origin"],
                })  # fmt: skip
    for reader in retired:
        reader.close()
    RETIRED.extend(retired)  # destroyed when the process ends (the worker ends without destroying them)
    return rows


RETIRED = []


def run_pipeline_task(task):
    """The `pipeline` task of `benchmarks.worker`: every shape, source, path and version."""
    from kcolor.models import get_preset

    shapes = []
    for preset, batch in task["shapes"]:
        if (get_preset(preset).image_size, batch) not in shapes:
            shapes.append((get_preset(preset).image_size, batch))
    rows = []
    with tempfile.TemporaryDirectory(prefix="kcolor-bench-") as directory:
        versions = [KcolorVersion("working tree")]
        if task.get("revision"):
            root = Path(directory) / "revision"
            root.mkdir()
            versions.append(KcolorVersion(task["revision"], revision_root(task["revision"], root)))
        for image_size, batch in shapes:
            specs, tfds_data, origin = prepare_data(directory, image_size, task["images"], task.get("npz"),
                                                    task.get("photos"), tfds_examples=task.get("tfds_examples"))
            data = {"specs": specs, "images": origin["images"], "origin": origin}
            rows.extend(measure_pipelines(
                image_size, batch, task["sources"], task.get("paths", PATHS), data, tfds_data, versions,
                task["batches"], task["repeats"], task.get("drain", 12), task.get("rounds", 2),
            ))  # fmt: skip
            shutil.rmtree(Path(directory) / f"{image_size}px", ignore_errors=True)
    return rows
