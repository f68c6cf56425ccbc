"""Static checks of the course notebooks: how they are committed and the template every one follows.

Nothing is executed here; `pytest --nbval-lax notebooks/` runs the notebooks. Committed notebooks carry no
outputs and no execution counts, with one exception: a cell marked `# NBVAL_CHECK_OUTPUT` keeps its expected
output, plain text that nbval compares with what the cell prints (shapes, dtypes, parameter counts of fixed
models), and an execution count, because nbval compares only cells whose reference was run (a reference cell
with outputs but no count is an error, "Unrun reference cell has outputs"). Every notebook follows the
tensorflow/docs template: an H1 title, an "Open in Colab" badge, an Overview with a result picture from
`docs/` (drawn by `docs/notebook_figures.py`), a Setup cell that installs kcolor on Colab and reports the
device and smoke mode, a conclusion and exercises with hints.
"""

import re
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
    pictures = re.findall(r"!\[[^\]]*\]\(\.\./(docs/[^)]+\.png)\)", overview)
    assert pictures, "the Overview needs a result picture from docs/"
    for picture in pictures:
        path = ROOT / picture
        assert path.is_file(), f"{picture} is missing: run `python docs/notebook_figures.py`"
        assert path.stat().st_size <= MAX_PICTURE_BYTES, f"{picture} is over {MAX_PICTURE_BYTES // 1024} KB"
    assert "__" not in overview, "an unfilled placeholder is left in the Overview"


@pytest.mark.parametrize("name", EXPECTED)
def test_setup_installs_on_colab_and_reports_device_and_mode(name):
    notebook = read(name)
    assert headings(notebook, 2)[:2] == ["Overview", "Setup"]
    setup = section(notebook, "Setup")
    for needed in ('REPO_URL = "https://github.com/', '"google.colab" in sys.modules', "pip", "describe_device()",
                   "is_smoke_mode()", "COURSE_DIR"):
        assert needed in setup, f"the Setup cell needs {needed!r}"


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
