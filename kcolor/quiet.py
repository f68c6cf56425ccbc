"""A quiet start: TensorFlow's C++ start-up lines do not reach a kcolor user, real errors still do.

When TensorFlow loads, its C++ runtime writes lines straight to the stderr file descriptor, before any
Python setting can stop them, and `TF_CPP_MIN_LOG_LEVEL` does not stop all of them: absl's "All log messages
before absl::InitializeLog() is called are written to STDERR", "oneDNN custom operations are on", "Could not
find cuda drivers on your machine", "failed call to cuInit" on a machine without a GPU, the cpu_feature_guard
notice ("To enable the following instructions: ..."), and on Colab's GPUs the "Unable to register cuDNN
factory" kind. A user sees them before every `kcolor` command and cannot tell them from real problems.

`kcolor.cli.main` calls `quiet_tensorflow_startup()` once the command line is parsed, before the command runs.
It sets `TF_CPP_MIN_LOG_LEVEL=2` when it is unset, so TensorFlow's later C++ INFO and WARNING lines are dropped
and its errors kept, then imports TensorFlow and lists its devices (which is when "failed call to cuInit" is
printed) with file descriptor 2 redirected to a temporary file (`filtered_stderr`). Afterwards every captured
line that is not one of the known start-up lines (`is_benign`) is written back to stderr: a missing library, a
broken installation or a Python warning during the import still shows. It does nothing when TensorFlow is
already imported, is not installed, or is not the Keras backend, and nothing at all with `KCOLOR_QUIET=0` in
the environment (then TensorFlow prints what it prints; for debugging an installation).
"""

import contextlib
import importlib.util
import json
import os
import re
import sys
import tempfile
from pathlib import Path

_LOG_PREFIX = re.compile(r"^[IWEF]\d{4} [\d:.]+\s+\d+ (?P<file>[\w.]+):\d+\] (?P<message>.*)$")

# (source file, start of the message) of the C++ log lines TensorFlow writes while it starts.
BENIGN_LOG_LINES = (
    ("port.cc", "oneDNN custom operations are on"),
    ("cudart_stub.cc", "Could not find cuda drivers on your machine"),
    ("cpu_feature_guard.cc", "This TensorFlow binary is optimized to use available CPU instructions"),
    ("cpu_feature_guard.cc", "Your CPU supports instructions that this TensorFlow binary was not compiled to use"),
    # Colab and other GPU machines: plugins registered twice, TensorRT absent, NUMA unknown in a VM.
    ("cuda_dnn.cc", "Unable to register cuDNN factory"),
    ("cuda_fft.cc", "Unable to register cuFFT factory"),
    ("cuda_blas.cc", "Unable to register cuBLAS factory"),
    ("computation_placer.cc", "computation placer already registered"),
    ("py_utils.cc", "TF-TRT Warning: Could not find TensorRT"),
    ("cuda_executor.cc", "successful NUMA node read from SysFS had negative value"),
)
CUINIT_FILES = ("cuda_platform.cc", "cuda_driver.cc", "cuda_executor.cc", "cuda_diagnostics.cc")
BENIGN_PLAIN_LINES = (
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "To enable the following instructions: ",  # the second line of the cpu_feature_guard notice
)


def nvidia_gpu_present():
    """True when the machine has an NVIDIA device node (`/dev/nvidia0`, ...): then a failing cuInit is an error."""
    return any(Path("/dev").glob("nvidia[0-9]*"))


def is_benign(line, gpu_present=None):
    """True for the start-up lines of TensorFlow that tell a user nothing (see the module docstring).

    "failed call to cuInit" counts as benign only on a machine without an NVIDIA GPU: where there is one,
    TensorFlow failing to reach it is a real problem.

    Example:
        >>> is_benign("I0000 00:00:1796036529.250916    6353 cudart_stub.cc:31] Could not find cuda drivers "
        ...           "on your machine, GPU will not be used.")
        True
    """
    text = line.rstrip("\r\n")
    if any(text.startswith(plain) for plain in BENIGN_PLAIN_LINES):
        return True
    match = _LOG_PREFIX.match(text)
    if not match:
        return False
    source, message = match.group("file"), match.group("message")
    if source in CUINIT_FILES and message.startswith("failed call to cuInit"):
        return not (nvidia_gpu_present() if gpu_present is None else gpu_present)
    return any(source == known and message.startswith(start) for known, start in BENIGN_LOG_LINES)


@contextlib.contextmanager
def filtered_stderr(keep=lambda line: not is_benign(line)):
    """Redirect file descriptor 2 to a temporary file; afterwards write back the lines that `keep` accepts.

    Catches what C++ code, subprocesses and Python (`sys.stderr`) write while the block runs. The kept lines
    are written back in their order, also when the block raises.
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, AttributeError, ValueError):  # no usable stderr (closed, replaced): nothing to filter
        yield
        return
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            with contextlib.suppress(Exception):
                sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            lines = capture.read().decode("utf-8", errors="replace").splitlines(keepends=True)
            kept = "".join(line if line.endswith("\n") else line + "\n" for line in lines if keep(line))
            if kept:
                os.write(2, kept.encode("utf-8", errors="replace"))


def keras_backend_name():
    """The Keras backend this process will use, read as Keras reads it, without importing Keras.

    `KERAS_BACKEND`, else the `"backend"` of `keras.json` in `KERAS_HOME` (default `~/.keras`), else
    `"tensorflow"`, Keras's default.
    """
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"]
    keras_home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    try:
        with open(os.path.join(keras_home, "keras.json")) as file:
            return str(json.load(file).get("backend") or "tensorflow")
    except (OSError, ValueError, AttributeError):  # no file, unreadable, not a JSON object
        return "tensorflow"


def quiet_tensorflow_startup():
    """Import TensorFlow now, keeping its start-up lines from stderr (see the module docstring).

    Sets `TF_CPP_MIN_LOG_LEVEL=2` when it is unset (C++ errors still show), then imports TensorFlow and lists
    its devices inside `filtered_stderr`. Does nothing with `KCOLOR_QUIET=0`, and imports nothing when
    TensorFlow is already imported, is not installed, or the Keras backend is not TensorFlow. Safe to call
    more than once.

    Returns:
        True when this call imported TensorFlow, else False.

    Example:
        >>> from kcolor.quiet import quiet_tensorflow_startup
        >>> imported = quiet_tensorflow_startup()  # before anything imports Keras
    """
    if os.environ.get("KCOLOR_QUIET", "1").strip() == "0":
        return False
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if "tensorflow" in sys.modules or keras_backend_name() != "tensorflow":
        return False
    try:
        if importlib.util.find_spec("tensorflow") is None:
            return False
    except (ImportError, ValueError):  # blocked or broken: the import will say so when it happens
        return False
    with filtered_stderr():
        import tensorflow

        with contextlib.suppress(Exception):  # a missing device API is not this module's business
            tensorflow.config.list_physical_devices()  # initialises the platforms: cuInit's complaint
    return True
