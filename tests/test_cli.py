"""Tests of the `kcolor` command line as a user runs it: `python -m kcolor` and the installed `kcolor` script in
fresh processes for train, colorize and evaluate, and `kcolor.cli.main` in-process where only the parsing or
the error handling is under test. One tiny run (`tiny_run`, conftest.py) is trained per session."""

import csv
import json
import re
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from conftest import AS_A_USER, finish, process_env, start_kcolor
from PIL import Image

from kcolor import cli, cli_train


@pytest.mark.parametrize(
    "command, expected",
    [
        ([], ["train", "colorize", "evaluate"]),
        (["train"], ["--dataset", "--resume", "--checkpoint-every", "--deterministic", "--width-multiplier"]),
        (["colorize"], ["--model", "--out-dir", "--render-size", "example:NAME"]),
        (["evaluate"], ["--compare", "--json", "--fid", "--limit"]),
    ],
)
def test_every_command_has_help(command, expected, capsys):
    with pytest.raises(SystemExit) as exit_status:
        cli.main([*command, "--help"])
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps lines at the terminal width
    assert exit_status.value.code == 0
    for option in expected:
        assert option in text



HELP_COMMANDS = ([], ["train"], ["colorize"], ["evaluate"], ["judge"], ["judge", "train"])


def test_help_loads_no_framework():
    """`python -m kcolor [COMMAND] --help` prints without importing TensorFlow, Keras or JAX (they take seconds)."""
    code = textwrap.dedent(f"""
        import contextlib, io, runpy, sys
        for command in {HELP_COMMANDS!r}:
            sys.argv = ["kcolor", *command, "--help"]  # as `python -m kcolor ... --help`
            with contextlib.redirect_stdout(io.StringIO()) as text:
                try:
                    runpy.run_module("kcolor", run_name="__main__", alter_sys=True)
                except SystemExit as exit_status:
                    print(command, exit_status.code, "usage: kcolor" in text.getvalue(), file=sys.stderr)
        print(sorted(name for name in ("tensorflow", "keras", "jax") if name in sys.modules))
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=process_env(),
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [f"{command} 0 True" for command in HELP_COMMANDS]
    assert result.stdout.strip() == "[]"


ERROR_LINE = re.compile(r"^[EF]\d{4} ", re.MULTILINE)  # TensorFlow's C++ ERROR and FATAL lines


def test_a_healthy_train_prints_no_error_lines_and_a_failing_one_says_why(tmp_path):
    """`kcolor train` as a user runs it (`TF_CPP_MIN_LOG_LEVEL` unset) with oneDNN on, as TensorFlow has it on the
    CPUs with AVX512_VNNI / AVX512_BF16 / AVX_VNNI / AMX: there Grappler's remapper failed on every training step
    (`kcolor.training._tensorflow_training_settings`) and printed an `E0000 ... remapper failed` line."""
    env = {**AS_A_USER, "TF_ENABLE_ONEDNN_OPTS": "1"}
    healthy = start_kcolor("train", "--dataset", "sample", "--width-multiplier", "0.0625", "--image-size", "16",
                           "--batch-size", "8", "--epochs", "1", "--steps-per-epoch", "2", "--verbose", "2",
                           "--out", tmp_path / "run", env=env)
    failing = start_kcolor("train", "--dataset", "folder:/nonexistent", "--out", tmp_path / "failed", env=env)
    healthy, failing = finish(healthy), finish(failing)
    assert healthy.returncode == 0, healthy.stderr
    assert not ERROR_LINE.search(healthy.stderr), healthy.stderr
    assert (tmp_path / "run" / "generator.keras").is_file()
    assert failing.returncode == 2 and not ERROR_LINE.search(failing.stderr), failing.stderr
    assert failing.stderr.strip() == "kcolor train: error: folder:/nonexistent: no such folder"

def test_train_writes_a_complete_run_folder(tiny_run):
    run_dir, result = tiny_run
    for name in ("generator.keras", "config.json", "history.csv", "samples/epoch_001.png", "samples/epoch_002.png"):
        assert (run_dir / name).is_file(), name
    state = json.loads((run_dir / "checkpoint" / "state.json").read_text())
    assert (state["epoch"], state["step"], state["global_step"]) == (2, 0, 12)
    assert sorted(path.name for path in (run_dir / "checkpoint" / state["checkpoint"]).iterdir()) == [
        "gan.weights.h5", "training_state.npz"
    ]  # fmt: skip
    with open(run_dir / "history.csv") as file:
        rows = list(csv.DictReader(file))
    assert [row["epoch"] for row in rows] == ["0", "1"]
    logged = {"d_loss", "g_loss", "g_adversarial", "g_l1", "d_real_accuracy", "d_fake_accuracy", "val_l1", "val_psnr"}
    assert logged <= set(rows[0])
    assert all(np.isfinite(float(value)) for row in rows for value in row.values())
    config = json.loads((run_dir / "config.json").read_text())
    assert (config["width_multiplier"], config["image_size"], config["deterministic"]) == (0.125, 16, True)
    assert (config["chroma_weight"], config["chroma_penalty"]) == (0.5, "squared")
    grid = Image.open(run_dir / "samples" / "epoch_001.png")
    assert grid.mode == "RGB" and grid.width == 3 * 16 * 4  # gray | prediction | truth, upscaled 4x
    for line in (f"Run folder:       {run_dir}", f"Generator:        {run_dir / 'generator.keras'}",
                 f"History:          {run_dir / 'history.csv'}", f"Checkpoint:       {run_dir / 'checkpoint'}"):
        assert line in result.stdout


def test_colorize_a_folder_and_an_example_with_the_console_script(cli_runs):
    # The folder also holds unusual and hostile files: test_reliability checks those.
    out_dir, result = cli_runs["out_dir"], cli_runs["colorized"]
    expected = {"odd_rgb": (53, 37), "gray": (53, 37), "chelsea": (451, 300)}
    for name, size in expected.items():
        with Image.open(out_dir / f"{name}_colorized.png") as image:
            assert (image.format, image.mode, image.size) == ("PNG", "RGB", size)
    assert f"{cli_runs['photos'] / 'odd_rgb.png'} -> {out_dir / 'odd_rgb_colorized.png'}" in result.stdout
    assert "chelsea.png -> " in result.stdout
    assert "left out 1 files that are not images" in result.stderr  # notes.txt


def test_colorize_names_an_unknown_example(tiny_run, tmp_path, capsys):
    status = cli.main(["colorize", "example:no_such_photo", "--model", str(tiny_run[0]), "--out-dir", str(tmp_path)])
    assert status == 1
    assert "error: example:no_such_photo: no example photo named 'no_such_photo'; examples: " in capsys.readouterr().err


def test_evaluate_prints_reference_rows_and_writes_json(tiny_run, cli_runs):
    run_dir, result, metrics_path = tiny_run[0], cli_runs["evaluated"], cli_runs["metrics_json"]
    assert result.returncode == 0, result.stderr
    table_rows = [line for line in result.stdout.splitlines() if line.startswith("|")]
    for row in ("gray", run_dir.name, "ground truth"):
        numbers = [line for line in table_rows if line.startswith(f"| {row} ")]
        assert numbers and any(character.isdigit() for character in numbers[0]), row
    metrics = json.loads(metrics_path.read_text())
    assert metrics["rows"] == ["gray", run_dir.name, "ground truth"] and metrics["num_images"] == 16
    assert all(np.isfinite(metrics["overall"][row]["psnr"]) for row in ("gray", run_dir.name))
    assert f"Metrics JSON: {metrics_path}" in result.stdout and (cli_runs["report_dir"] / "report.md").is_file()


def test_evaluate_compares_two_runs(tiny_run, tmp_path, capsys):
    run_a = tiny_run[0]
    run_b = tmp_path / "run_b"
    shutil.copytree(run_a, run_b)
    metrics_path = tmp_path / "compare.json"
    status = cli.main(["evaluate", "--compare", str(run_a), str(run_b), "--limit", "8", "--json", str(metrics_path),
                       "--out", str(tmp_path / "report")])
    assert status == 0
    metrics = json.loads(metrics_path.read_text())
    assert metrics["rows"] == ["gray", run_a.name, "run_b", "ground truth"]
    assert metrics["overall"][run_a.name] == metrics["overall"]["run_b"]  # the same generator twice
    assert "run_b" in capsys.readouterr().out


@pytest.mark.parametrize(
    "options, message",
    [
        (["--image-size", "30"], "Image height 30 does not fit preset 'nazeri-cifar'"),
        (["--batch-size", "5000"], "batch size 5000 is larger than the 1536 usable training images of sample"),
        (["--dataset", "folder:/no/such/folder"], "folder:/no/such/folder: no such folder"),
    ],
)
def test_train_fails_fast_with_a_one_line_message(options, message, tmp_path, capsys):
    status = cli.main(["train", "--out", str(tmp_path / "run"), "--width-multiplier", "0.125", *options])
    error = capsys.readouterr().err.strip()
    assert status == 2 and error.startswith("kcolor train: error: ") and message in error and "\n" not in error


@pytest.mark.parametrize(
    "options, message",
    [
        (["--epochs", "-1"], "argument --epochs: must be a positive integer, got -1"),
        (["--preset", "nazeri"], "argument --preset: invalid choice: 'nazeri'"),
        (["--width-multiplier", "0"], "argument --width-multiplier: must be a positive number, got 0"),
        (["--l1-weight", "inf"], "argument --l1-weight: must be zero or a positive number, got inf"),
        (["--chroma-weight", "-1"], "argument --chroma-weight: must be zero or a positive number, got -1"),
        (["--chroma-penalty", "cubic"], "argument --chroma-penalty: invalid choice: 'cubic'"),
    ],
)
def test_bad_option_values_are_usage_errors(options, message, capsys):
    with pytest.raises(SystemExit) as exit_status:
        cli.main(["train", *options])
    assert exit_status.value.code == 2 and message in capsys.readouterr().err


@pytest.mark.parametrize("flags, expected", [([], "auto"), (["--jit"], True), (["--no-jit"], False)])
def test_jit_flags(flags, expected):
    argv = ["train", *flags]
    args = cli.build_parser().parse_args(argv)
    args.argv = argv
    assert cli_train.train_config(args).jit_compile == expected
