"""Static checks of the course notebooks: how they are committed and the template every one follows.

Nothing is executed here but the Setup cell, with its pip calls recorded instead of run; `pytest --nbval-lax
notebooks/` runs the notebooks. Committed notebooks carry no outputs and no execution counts, with one exception:
a cell marked `# NBVAL_CHECK_OUTPUT` keeps its expected output, plain text that nbval compares with what the cell
prints (shapes, dtypes, parameter counts of fixed models), and an execution count, because nbval compares only
cells whose reference was run (a reference cell with outputs but no count is an error, "Unrun reference cell has
outputs"). Markdown cells carry no outputs; the Overview picture lives in the markdown source itself, as a data
URI (see below). Every notebook follows the tensorflow/docs template: an H1 title, an "Open in Colab" badge, an
Overview with a result picture from `docs/` (drawn and embedded by `docs/notebook_figures.py`), a Setup cell that
installs kcolor on Colab without touching Colab's TensorFlow, Keras and JAX and reports the device and smoke mode,
a conclusion and exercises with hints. `tests/test_notebook_pictures.py` renders the notebooks to HTML and checks
that every picture loads from a copy of the notebook alone.
"""

import base64
import re
import sys
import types
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
EXPECTED = (
    "01_data_preparation.ipynb",
    "02_training_the_gan.ipynb",
    "03_evaluation.ipynb",
    "04_colorize_your_photos.ipynb",
)
CHECK_MARKER = "# NBVAL_CHECK_OUTPUT"
MAX_PICTURE_BYTES = 300 * 1024
DATA_URI_PICTURE = re.compile(r"!\[[^\]]*\]\(data:image/png;base64,([A-Za-z0-9+/=]+)\)")
# Words that keep their capitals in sentence-case headings.
PROPER_NOUNS = {"GAN", "U-Net", "L1-only", "TFDS", "CIFAR-10", "Places365", "PatchGAN", "L\\*a\\*b\\*", "Turing"}


def read(name):
    return nbformat.read(NOTEBOOK_DIR / name, as_version=4)


def markdown(notebook):
    return "\n\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")


def headings(notebook, level):
    return [line[level + 1 :].strip() for line in markdown(notebook).splitlines() if line.startswith("#" * level + " ")]


def section(notebook, heading):
    """The markdown and code of a `## heading` section, up to the next `## ` heading."""
    text = "\n\n".join(cell.source for cell in notebook.cells)
    match = re.search(rf"^## {re.escape(heading)}\s*$(.*?)(?=^## |\Z)", text, flags=re.MULTILINE | re.DOTALL)
    assert match, f"no '## {heading}' section"
    return match.group(1)


def test_the_four_notebooks_exist():
    assert sorted(path.name for path in NOTEBOOK_DIR.glob("*.ipynb")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", EXPECTED)
def test_committed_without_outputs_except_checked_cells(name):
    notebook = read(name)
    nbformat.validate(notebook)
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        where = f"{name}, cell {index} ({cell.source.splitlines()[0] if cell.source else 'empty'!r})"
        if CHECK_MARKER not in cell.source:
            assert cell.execution_count is None, f"{where} has an execution count: clear it before committing"
            assert not cell.outputs, f"{where} has outputs: clear them before committing"
            continue
        assert cell.outputs, f"{where} is marked {CHECK_MARKER} but has no expected output for nbval"
        assert cell.execution_count is not None, f"{where}: nbval ignores a checked cell without execution count"
        for output in cell.outputs:
            assert output.output_type == "stream" and output.name == "stdout", (
                f"{where}: a checked cell may only keep printed text, not {output.output_type}"
            )


@pytest.mark.parametrize("name", EXPECTED)
def test_checked_outputs_are_deterministic_text(name):
    """Checked outputs must not depend on the machine, the time or the mode."""
    for cell in read(name).cells:
        if cell.cell_type == "code" and CHECK_MARKER in cell.source:
            assert "%%time" not in cell.source and "SMOKE" not in cell.source and "COURSE_DIR" not in cell.source
            text = "".join(output.text for output in cell.outputs)
            assert not re.search(r"(/|\\)(work|home|tmp|content|Users)\b|\d+(\.\d+)? ?(s|ms)\b", text), text


@pytest.mark.parametrize("name", EXPECTED)
def test_title_badge_and_overview_picture(name):
    notebook = read(name)
    first = notebook.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# "), "the first cell must be the H1 title"
    assert len(headings(notebook, 1)) == 1, "one H1 title per notebook"
    badge = f"https://colab.research.google.com/github/kcolor/kcolor/blob/main/notebooks/{name}"
    assert f"colab-badge.svg)]({badge})" in first.source, "the first cell needs an Open in Colab badge to this notebook"

    overview = section(notebook, "Overview")
    assert re.search(r"GPU", overview) and re.search(r"CPU", overview), "say how long it takes on a GPU and a CPU"
    assert "__" not in overview, "an unfilled placeholder is left in the Overview"


@pytest.mark.parametrize("name", EXPECTED)
def test_overview_picture_is_embedded_from_docs(name):
    """The Overview picture is a `docs/overview_*.png`, embedded byte for byte as a data URI in the markdown.

    Not a link to `../docs/` (a broken image on Colab and in a notebook opened outside a checkout) and not a
    cell attachment (Colab does not render those: googlecolab/colabtools#3836).
    """
    overview = section(read(name), "Overview")
    pictures = [base64.b64decode(data) for data in DATA_URI_PICTURE.findall(overview)]
    assert pictures, "the Overview needs a result picture from docs/, embedded by `python docs/notebook_figures.py`"
    drawn = {path.read_bytes(): path.name for path in (ROOT / "docs").glob("overview_*.png")}
    for picture in pictures:
        assert picture in drawn, (
            "the Overview picture is not one of docs/overview_*.png as they are now: run "
            "`python docs/notebook_figures.py --embed-only` after redrawing them"
        )
        assert len(picture) <= MAX_PICTURE_BYTES, f"{drawn[picture]} is over {MAX_PICTURE_BYTES // 1024} KB"
    assert not re.search(r"\]\((?!https://|data:)[^)]+\.(png|jpe?g|gif|svg)\)", overview), "a local picture link"


@pytest.mark.parametrize("name", EXPECTED)
def test_setup_installs_on_colab_and_reports_device_and_mode(name):
    notebook = read(name)
    assert headings(notebook, 2)[:2] == ["Overview", "Setup"]
    setup = section(notebook, "Setup")
    for needed in ('REPO_URL = "https://github.com/', '"google.colab" in sys.modules', "pip", "--constraint",
                   "describe_device()", "is_smoke_mode()", "COURSE_DIR"):
        assert needed in setup, f"the Setup cell needs {needed!r}"


def setup_cells(name):
    """The Setup section's markdown cell and its code cell."""
    cells = read(name).cells
    index = next(i for i, cell in enumerate(cells) if cell.source.startswith("## Setup"))
    return cells[index], cells[index + 1]


def test_setup_cells_are_the_same_in_every_notebook():
    """One way to install kcolor: the Setup cells (and the text above them) are identical in all four notebooks."""
    first = setup_cells(EXPECTED[0])
    for name in EXPECTED[1:]:
        for reference, cell in zip(first, setup_cells(name)):
            assert cell.source == reference.source, f"{name}'s Setup differs from {EXPECTED[0]}'s"


@pytest.mark.parametrize("on_colab", [False, True], ids=["elsewhere", "colab"])
def test_setup_cell_never_replaces_tensorflow_keras_or_jax(on_colab, monkeypatch, tmp_path):
    """Runs the Setup cell with pip calls recorded instead of run (and, for Colab, a fake `google.colab` module).

    Elsewhere (CI, a checkout) it must install nothing. On Colab it must run one `pip install` of kcolor, without
    `--upgrade` or `--force-reinstall`, under a constraints file that pins the installed TensorFlow, Keras, JAX
    and NumPy, so that pip can only add what kcolor lacks (Colab's own builds of these work together, and
    replacing one breaks the runtime).
    """
    import subprocess
    import tempfile
    from importlib import metadata

    commands, run = [], subprocess.run

    def record_pip(command, *args, **options):  # anything else (a device query, say) runs as usual
        if "pip" not in command:
            return run(command, *args, **options)
        commands.append(command)
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(subprocess, "run", record_pip)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    if on_colab:
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    monkeypatch.chdir(tmp_path)
    _, code = setup_cells(EXPECTED[0])
    exec(compile(code.source, "Setup cell", "exec"), {"__name__": "__main__"})

    if not on_colab:
        assert commands == []
        return
    assert len(commands) == 1, commands
    command = commands[0]
    assert command[:4] == [sys.executable, "-m", "pip", "install"] and command[-1].startswith("git+https://github.com/")
    assert not {"--upgrade", "-U", "--force-reinstall", "--ignore-installed", "-I"} & set(command), command
    constraints = Path(command[command.index("--constraint") + 1]).read_text().split()
    for package in ("tensorflow", "keras", "jax", "numpy"):
        assert f"{package}=={metadata.version(package)}" in constraints, (package, constraints)


def test_t4_estimates_match_the_full_mode_course():
    """The Colab T4 estimates in notebooks 02-04, docs/PERFORMANCE.md and the README assume this full-mode course.

    If it changes, recompute them (docs/PERFORMANCE.md, "Colab T4 estimates") and update this test.
    """
    from kcolor.tutorial import course_config

    for kind in ("gan", "l1"):
        config = course_config(kind, smoke=False).resolved()
        assumed = dict(dataset="cifar10", preset="nazeri-cifar", image_size=32, width_multiplier=1.0, epochs=15,
                       batch_size=32, steps_per_epoch=None, l1_warmup_epochs=10, generator_steps=1,
                       mixed_precision="off", l1_only=kind == "l1")  # fmt: skip
        actual = {field: getattr(config, field) for field in assumed}
        assert actual == assumed, f"the {kind} run changed: recompute the Colab T4 estimates"


@pytest.mark.parametrize("name", EXPECTED)
def test_ends_with_conclusion_and_exercises_with_hints(name):
    notebook = read(name)
    assert headings(notebook, 2)[-2:] == ["Conclusion", "Exercises"]
    text = section(notebook, "Exercises")
    exercises = re.findall(r"^\d+\. (.*?)(?=^\d+\. |\Z)", text, flags=re.MULTILINE | re.DOTALL)
    assert 2 <= len(exercises) <= 3, "two or three exercises"
    for exercise in exercises:
        assert "*Hint:*" in exercise, f"an exercise without a hint: {exercise[:60]!r}"


@pytest.mark.parametrize("name", EXPECTED)
def test_headings_are_sentence_case(name):
    for heading in headings(read(name), 2) + headings(read(name), 3):
        words = heading.split()
        assert all(not word[0].isupper() or word.isupper() or word in PROPER_NOUNS for word in words[1:]), heading



@pytest.mark.parametrize("name", EXPECTED)
def test_code_cells_compile(name):
    """Every code cell is valid Python once IPython has translated its magics (%%time, !cmd)."""
    from IPython.core.inputtransformer2 import TransformerManager

    transformer = TransformerManager()
    for index, cell in enumerate(read(name).cells):
        if cell.cell_type == "code":
            compile(transformer.transform_cell(cell.source), f"{name}[{index}]", "exec")


def test_train_step_walkthrough_quotes_the_current_code():
    """Every piece of code quoted in notebook 02's line-by-line walkthrough is in kcolor's TensorFlow train step.

    The notebook shows the source with `inspect.getsource`, so it is always current; this catches the walkthrough
    falling behind when the step changes.
    """
    cell = next(cell for cell in read("02_training_the_gan.ipynb").cells if cell.source.startswith("Line by line"))
    steps = "\n".join(line for line in cell.source.splitlines() if re.match(r"\s*(\d+\.|  )", line))
    source = (ROOT / "kcolor" / "gan" / "tensorflow_steps.py").read_text()
    quoted = set(re.findall(r"`([^`]+)`", steps)) - {"history.csv", "load_dataset"}
    assert len(quoted) > 10
    for code in quoted:
        assert code.removesuffix("(...)") in source, f"the walkthrough quotes `{code}`: the train step has no such code"
