"""A quiet command line: TensorFlow's C++ start-up lines do not reach a kcolor user, real errors still do."""

import os
import subprocess
import sys
import textwrap

from kcolor.quiet import filtered_stderr, is_benign, keras_backend_name, nvidia_gpu_present

STARTUP_LINES = [
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "I0000 00:00:1796036529.250916    6353 port.cc:153] oneDNN custom operations are on. You may see slightly "
    "different numerical results due to floating-point round-off errors from different computation orders. To "
    "turn them off, set the environment variable `TF_ENABLE_ONEDNN_OPTS=0`.",
    "I0000 00:00:1796036529.251214    6353 cudart_stub.cc:31] Could not find cuda drivers on your machine, GPU will "
    "not be used.",
    "I0000 00:00:1796036598.416107    8201 cpu_feature_guard.cc:227] This TensorFlow binary is optimized to use "
    "available CPU instructions in performance-critical operations.",
    "To enable the following instructions: AVX2 AVX512F AVX512_VNNI AVX512_BF16 FMA, in other operations, rebuild "
    "TensorFlow with the appropriate compiler flags.",
    "E0000 00:00:1727000000.123456    1234 cuda_dnn.cc:8310] Unable to register cuDNN factory: Attempting to register "
    "factory for plugin cuDNN when one has already been registered",
]
CUINIT = ("E0000 00:00:1796037371.244372   11969 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error: "
          "Failed call to cuInit: UNKNOWN ERROR (303)")
DRIVER = ("E0000 00:00:1796037371.244372   11969 cuda_platform.cc:52] CUDA driver version is insufficient for "
          "CUDA runtime version")  # from the same file as the cuInit line, but a real problem
REAL_LINES = [
    "E0000 00:00:1796037371.244372   11969 op_kernel.cc:1830] OP_REQUIRES failed: out of memory",
    "Traceback (most recent call last):",
    "ImportError: libcudart.so.12: cannot open shared object file: No such file or directory",
    "W0000 00:00:1796037371.244372   11969 port.cc:153] something new that nobody has seen yet",
]


def test_known_startup_lines_are_benign_and_others_are_not():
    assert all(is_benign(line) for line in STARTUP_LINES)
    assert not any(is_benign(line) for line in REAL_LINES)
    assert is_benign(CUINIT, gpu_present=False) and not is_benign(CUINIT, gpu_present=True)


def test_lines_written_to_fd_2_in_the_window_pass_through_unless_benign(capfd):
    with filtered_stderr():
        os.write(2, "\n".join([STARTUP_LINES[0], REAL_LINES[0], *STARTUP_LINES[1:], REAL_LINES[1]]).encode() + b"\n")
        os.write(2, (REAL_LINES[2] + "\n" + DRIVER + "\n").encode())
        os.write(2, REAL_LINES[3].encode())  # no final newline
    assert capfd.readouterr().err.splitlines() == [*REAL_LINES[:3], DRIVER, REAL_LINES[3]]


def test_lines_pass_through_when_the_block_raises(capfd):
    try:
        with filtered_stderr():
            os.write(2, (STARTUP_LINES[1] + "\n" + REAL_LINES[2] + "\n").encode())
            raise ImportError("broken")
    except ImportError:
        pass
    assert capfd.readouterr().err.splitlines() == [REAL_LINES[2]]


FAKE_TENSORFLOW = '''
import os
import sys
os.write(2, {startup!r}.encode())
os.write(2, {real!r}.encode())
print("a Python warning while importing", file=sys.stderr)  # Python's sys.stderr writes to fd 2 too

class config:
    @staticmethod
    def list_physical_devices():
        os.write(2, {cuinit!r}.encode())
        return []
'''


def run_with_fake_tensorflow(tmp_path, code, **env_changes):
    """Runs `code` in a fresh Python where `import tensorflow` finds a stand-in package that writes start-up lines
    and a real error to fd 2 while it is imported; `TF_CPP_MIN_LOG_LEVEL` and `KCOLOR_QUIET` unset, Keras's backend
    TensorFlow, unless `env_changes` say otherwise (a value of None removes the variable)."""
    if not (tmp_path / "tensorflow").is_dir():
        (tmp_path / "tensorflow").mkdir()
        (tmp_path / "tensorflow" / "__init__.py").write_text(FAKE_TENSORFLOW.format(
            startup="\n".join(STARTUP_LINES) + "\n", real=REAL_LINES[0] + "\n", cuinit=CUINIT + "\n"))
    env = {key: value for key, value in os.environ.items() if key not in ("TF_CPP_MIN_LOG_LEVEL", "KCOLOR_QUIET")}
    env.update(KERAS_BACKEND="tensorflow", PYTHONPATH=os.pathsep.join([str(tmp_path), env.get("PYTHONPATH", "")]))
    for name, value in env_changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, env=env,
                          timeout=120)


def test_tensorflow_is_imported_quietly_once(tmp_path):
    code = """
        import os, sys
        from kcolor.quiet import quiet_tensorflow_startup
        assert "tensorflow" not in sys.modules
        assert quiet_tensorflow_startup() and not quiet_tensorflow_startup()  # imports it, once
        print(os.environ["TF_CPP_MIN_LOG_LEVEL"])
        print("imported", sys.modules["tensorflow"].__file__)
    """
    result = run_with_fake_tensorflow(tmp_path, code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "2" and str(tmp_path) in result.stdout
    expected = [REAL_LINES[0], "a Python warning while importing"] + ([CUINIT] if nvidia_gpu_present() else [])
    assert result.stderr.splitlines() == expected
    result = run_with_fake_tensorflow(tmp_path, code, TF_CPP_MIN_LOG_LEVEL="3")
    assert result.stdout.splitlines()[0] == "3"  # a user's own setting is kept


def test_kcolor_quiet_0_and_other_backends_leave_tensorflow_alone(tmp_path):
    code = """
        import os, sys
        from kcolor.quiet import quiet_tensorflow_startup
        assert quiet_tensorflow_startup() is False and "tensorflow" not in sys.modules
        print(os.environ.get("TF_CPP_MIN_LOG_LEVEL"))
        import tensorflow
        tensorflow.config.list_physical_devices()
    """
    result = run_with_fake_tensorflow(tmp_path, code, KCOLOR_QUIET="0")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "None"  # nothing set: TensorFlow prints what it prints
    assert result.stderr.splitlines() == [*STARTUP_LINES, REAL_LINES[0], "a Python warning while importing", CUINIT]
    result = run_with_fake_tensorflow(tmp_path, code, KERAS_BACKEND="jax")
    assert result.returncode == 0, result.stderr  # no TensorFlow import for JAX (it may never need it)


def test_the_keras_backend_is_read_as_keras_reads_it(tmp_path, monkeypatch):
    monkeypatch.delenv("KERAS_BACKEND", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    assert keras_backend_name() == "tensorflow"  # no keras.json: Keras's default
    (tmp_path / "keras.json").write_text('{"backend": "jax", "floatx": "float32"}')
    assert keras_backend_name() == "jax"
    monkeypatch.setenv("KERAS_BACKEND", "torch")
    assert keras_backend_name() == "torch"


def test_kcolor_prints_no_tensorflow_startup_lines(cli_runs):
    """Real commands, run as a user runs them (`TF_CPP_MIN_LOG_LEVEL` unset; conftest.cli_runs): the `kcolor` script
    colorizing photos, `kcolor evaluate` and a resumed `kcolor train` all import TensorFlow and list its devices."""
    for name in ("colorized", "evaluated", "resumed"):
        stderr = cli_runs[name].stderr
        for marker in ("absl::InitializeLog", "oneDNN custom operations", "Could not find cuda drivers",
                       "cpu_feature_guard", "To enable the following instructions"):  # fmt: skip
            assert marker not in stderr, (name, stderr)
        if not nvidia_gpu_present():
            assert "failed call to cuInit" not in stderr, (name, stderr)
        assert not any(is_benign(line) for line in stderr.splitlines()), (name, stderr)
    # Real errors still show: the photos that cannot be colorized, one line each.
    assert f"error: {cli_runs['missing']}: file not found" in cli_runs["colorized"].stderr.splitlines()


def test_nothing_happens_without_tensorflow():
    """Where TensorFlow cannot be imported (JAX users), the start-up neither fails nor imports anything."""
    code = textwrap.dedent("""
        import sys
        class NoTensorFlow:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] == "tensorflow":
                    raise ImportError("blocked")
        sys.meta_path.insert(0, NoTensorFlow())
        from kcolor.quiet import quiet_tensorflow_startup
        assert quiet_tensorflow_startup() is False and "tensorflow" not in sys.modules
        print("ok")
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                            env=dict(os.environ, KERAS_BACKEND="tensorflow"))
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr
