"""A quiet start: TensorFlow's C++ start-up lines do not reach a kcolor user, real errors still do.

When TensorFlow loads, its C++ runtime writes lines straight to the stderr file descriptor, before any
Python setting can stop them, and `TF_CPP_MIN_LOG_LEVEL` does not stop all of them: absl's "All log messages
before absl::InitializeLog() is called are written to STDERR", "oneDNN custom operations are on", "Could not
find cuda drivers on your machine", "failed call to cuInit" on a machine without a GPU, the cpu_feature_guard
notice ("To enable the following instructions: ..."), and on Colab's GPUs the "Unable to register cuDNN
factory" kind. A user sees them before every `kcolor` command and cannot tell them from real problems.

`quiet_tensorflow_startup()` (the first thing `kcolor.cli.main` does) sets `TF_CPP_MIN_LOG_LEVEL=2` when it is
unset, so TensorFlow's later C++ INFO and WARNING lines are dropped and its errors kept, and arranges that the
*first* `import tensorflow`, wherever it happens, runs with file descriptor 2 redirected to a temporary file
(`filtered_stderr`); TensorFlow's devices are listed inside the same window, which is when "failed call to
cuInit" is printed. Afterwards every captured line that is not one of the known start-up lines
(`is_benign`) is written back to stderr: a missing library, a broken installation or a Python warning during
the import still shows. Nothing happens when TensorFlow is already imported or not installed.
"""

import contextlib
import importlib.abc
import importlib.util
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


class _QuietLoader(importlib.abc.Loader):
    """Runs the real loader of `tensorflow` inside `filtered_stderr`, then lists the devices there too."""

    def __init__(self, loader, finder):
        self._loader, self._finder = loader, finder

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._finder.remove()
        module.__loader__ = module.__spec__.loader = self._loader  # the module keeps its own loader
        with filtered_stderr():
            self._loader.exec_module(module)
            with contextlib.suppress(Exception):  # a missing device API is not this module's business
                module.config.list_physical_devices()  # initialises the platforms: cuInit's complaint

    def __getattr__(self, name):  # anything else (resource readers, get_code, ...) is the real loader's
        return getattr(self._loader, name)


class _FirstTensorFlowImport(importlib.abc.MetaPathFinder):
    """A meta path finder that wraps the loader of the first `import tensorflow` in `_QuietLoader`."""

    def __init__(self):
        self._searching = False

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow" or self._searching:
            return None
        self._searching = True
        try:
            spec = importlib.util.find_spec(name)  # the real spec, from the finders after this one
        finally:
            self._searching = False
        if spec is None or spec.loader is None:
            return None
        spec.loader = _QuietLoader(spec.loader, self)
        return spec

    def remove(self):
        with contextlib.suppress(ValueError):
            sys.meta_path.remove(self)


def quiet_tensorflow_startup():
    """Keep TensorFlow's start-up lines from stderr, for the first `import tensorflow` of this process.

    Sets `TF_CPP_MIN_LOG_LEVEL=2` when it is unset (C++ errors still show) and installs a one-shot import hook;
    does nothing more when TensorFlow is already imported or is not installed. Safe to call more than once.

    Returns:
        True when the hook is installed (TensorFlow will be imported quietly), else False.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if "tensorflow" in sys.modules or any(isinstance(finder, _FirstTensorFlowImport) for finder in sys.meta_path):
        return False
    try:
        if importlib.util.find_spec("tensorflow") is None:
            return False
    except (ImportError, ValueError):  # blocked or broken: the import will say so when it happens
        return False
    sys.meta_path.insert(0, _FirstTensorFlowImport())
    return True
