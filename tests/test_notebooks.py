"""Static checks of the course notebooks: how they are committed and the template every one follows.

Nothing is executed here but the Setup cell, with its pip calls recorded instead of run; `pytest --nbval-lax
notebooks/` runs the notebooks. Committed notebooks carry no outputs and no execution counts, with one exception:
a cell marked `# NBVAL_CHECK_OUTPUT` keeps its expected output, plain text that nbval compares with what the cell
prints (shapes, dtypes, parameter counts of fixed models), and an execution count, because nbval compares only
cells whose reference was run (a reference cell with outputs but no count is an error, "Unrun reference cell has
outputs"). Markdown cells carry no outputs; the Overview picture lives in the markdown source itself, as a data
URI (see below). Every notebook follows the tensorflow/docs template: an H1 title, an "Open in Colab" badge, an
Overview with a result picture from `docs/` (drawn and embedded by `docs/notebook_figures.py`), a Setup cell that
installs kcolor on Colab without touching Colab's TensorFlow, Keras and JAX, chooses the course mode
(`kcolor.course`) and the runs folder (Google Drive on Colab) and reports them with the device, a conclusion and
exercises with hints and hidden solutions, all within the course's markdown word budget.
`tests/test_notebook_pictures.py` renders the notebooks to HTML and checks
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


SETUP_CODE_LINES = 25
SETUP_MARKDOWN_WORDS = 80


@pytest.mark.parametrize("name", EXPECTED)
def test_setup_installs_on_colab_and_reports_device_mode_and_runs_folder(name):
    notebook = read(name)
    assert headings(notebook, 2)[:2] == ["Overview", "Setup"]
    setup = section(notebook, "Setup")
    for needed in ("KCOLOR_MODE = None", 'KCOLOR_SOURCE = "git+https://github.com/', '"google.colab" in sys.modules',
                   "pip", "--constraint", "describe_device()", "MODE = choose_mode(KCOLOR_MODE)",
                   'SMOKE = MODE == "smoke"', "COURSE_DIR = runs_folder(MODE)", '"TF_CPP_MIN_LOG_LEVEL", "3"'):
        assert needed in setup, f"the Setup cell needs {needed!r}"


def setup_cells(name):
    """The Setup section's markdown cell and its code cell."""
    cells = read(name).cells
    index = next(i for i, cell in enumerate(cells) if cell.source.startswith("## Setup"))
    return cells[index], cells[index + 1]


def test_setup_cells_are_the_same_in_every_notebook_and_short():
    """One way to install kcolor: the Setup cells (and the text above them) are identical in all four notebooks,
    and short: a student reads them four times."""
    first = setup_cells(EXPECTED[0])
    for name in EXPECTED[1:]:
        for reference, cell in zip(first, setup_cells(name)):
            assert cell.source == reference.source, f"{name}'s Setup differs from {EXPECTED[0]}'s"
    text, code = first
    lines = [line for line in code.source.splitlines() if line.strip() and not line.strip().startswith("#")]
    assert len(lines) <= SETUP_CODE_LINES, f"the Setup cell has {len(lines)} lines of code, over {SETUP_CODE_LINES}"
    words = len(text.source.split()) - 2  # without the heading
    assert words <= SETUP_MARKDOWN_WORDS, f"the Setup text has {words} words: keep it to {SETUP_MARKDOWN_WORDS}"


def run_setup_cell(monkeypatch, tmp_path, on_colab, pip_returncode=0, source=None):
    """Executes the Setup cell with pip calls recorded instead of run, and on Colab stand-ins for `google.colab`
    and `google.colab.drive` (whose `mount` records its argument and creates `MyDrive` there, under `tmp_path`).

    Returns:
        `(namespace, pip_commands, mounts)`: the cell's globals, the pip command lines and the mount points.
    """
    import subprocess
    import tempfile

    commands, mounts, run = [], [], subprocess.run

    def record_pip(command, *args, **options):  # anything else (a device query, say) runs as usual
        if "pip" not in command:
            return run(command, *args, **options)
        commands.append(command)
        return subprocess.CompletedProcess(command, pip_returncode)

    def mount(mount_point, **options):
        mounts.append(mount_point)
        (Path(mount_point) / "MyDrive").mkdir(parents=True)

    monkeypatch.setattr(subprocess, "run", record_pip)
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    monkeypatch.delenv("KCOLOR_MODE", raising=False)
    monkeypatch.setenv("KCOLOR_DRIVE_MOUNT", str(tmp_path / "drive"))
    if on_colab:
        colab, drive = types.ModuleType("google.colab"), types.ModuleType("google.colab.drive")
        drive.mount, colab.drive = mount, drive
        monkeypatch.setitem(sys.modules, "google.colab", colab)
        monkeypatch.setitem(sys.modules, "google.colab.drive", drive)
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    (tmp_path / "content").mkdir()
    monkeypatch.chdir(tmp_path / "content")
    code = setup_cells(EXPECTED[0])[1].source if source is None else source
    namespace = {"__name__": "__main__"}
    exec(compile(code, "Setup cell", "exec"), namespace)
    return namespace, commands, mounts


@pytest.mark.parametrize("on_colab", [False, True], ids=["elsewhere", "colab"])
def test_setup_cell_never_replaces_tensorflow_keras_or_jax(on_colab, monkeypatch, tmp_path, capsys):
    """Elsewhere (CI, a checkout) the Setup cell must install nothing and keep the runs in the working folder. On
    Colab it must run one `pip install` of kcolor, without `--upgrade` or `--force-reinstall`, under a constraints
    file that pins the installed TensorFlow, Keras, JAX and NumPy, so that pip can only add what kcolor lacks
    (Colab's own builds of these work together, and replacing one breaks the runtime); then mount Google Drive
    and keep the runs there, where the next notebook's runtime finds them. Tests run in smoke mode (conftest.py).
    """
    from importlib import metadata

    namespace, commands, mounts = run_setup_cell(monkeypatch, tmp_path, on_colab)
    assert (namespace["MODE"], namespace["SMOKE"], namespace["IN_COLAB"]) == ("smoke", True, on_colab)
    printed = capsys.readouterr().out
    assert "Mode: smoke" in printed and "Runs folder:" in printed and ("CPU only" in printed or "GPU" in printed)
    if not on_colab:
        assert commands == [] and mounts == []
        assert namespace["COURSE_DIR"] == tmp_path / "content" / "runs" / "course-smoke"
        return
    assert mounts == [str(tmp_path / "drive")]
    assert namespace["COURSE_DIR"] == tmp_path / "drive" / "MyDrive" / "kcolor-course" / "smoke"
    assert namespace["COURSE_DIR"].is_dir()
    assert len(commands) == 1, commands
    command = commands[0]
    assert command[:4] == [sys.executable, "-m", "pip", "install"]
    assert command[-1] == namespace["KCOLOR_SOURCE"] and command[-1].startswith("git+https://github.com/")
    assert not {"--upgrade", "-U", "--force-reinstall", "--ignore-installed", "-I"} & set(command), command
    constraints = Path(command[command.index("--constraint") + 1]).read_text().split()
    for package in ("tensorflow", "keras", "jax", "jaxlib", "numpy", "ml_dtypes"):
        assert f"{package}=={metadata.version(package)}" in constraints, (package, constraints)


def test_setup_cell_installs_a_wheel_or_a_folder(monkeypatch, tmp_path):
    """An instructor can point KCOLOR_SOURCE at a wheel the students upload, or at a folder: pip gets it as is."""
    code = setup_cells(EXPECTED[0])[1].source
    line = next(line for line in code.splitlines() if line.startswith("KCOLOR_SOURCE = "))
    wheel = "/content/kcolor-0.1.0-py3-none-any.whl"
    source = code.replace(line, f"KCOLOR_SOURCE = {wheel!r}")
    _, commands, _ = run_setup_cell(monkeypatch, tmp_path, True, source=source)
    assert commands[0][-1] == wheel


def test_setup_cell_says_what_to_do_when_pip_fails(monkeypatch, tmp_path):
    """A failed install (a wrong KCOLOR_SOURCE, a private repository) stops the notebook with what to do."""
    with pytest.raises(RuntimeError) as raised:
        run_setup_cell(monkeypatch, tmp_path, True, pip_returncode=1)
    message = str(raised.value)
    assert "KCOLOR_SOURCE" in message and "git+https://github.com/kcolor/kcolor" in message
    assert "wheel" in message and ".whl" in message and "Files" in message


COURSE_FUNCTIONS = re.compile(r"\b(course_config|find_or_train|find_or_train_judge|judge_settings)\(")


def call_arguments(source, start):
    """The text between the parenthesis that opens at `start - 1` and the one that closes it."""
    depth = 1
    for index in range(start, len(source)):
        depth += {"(": 1, ")": -1}.get(source[index], 0)
        if depth == 0:
            return source[start:index]
    return source[start:]


@pytest.mark.parametrize("name", EXPECTED)
def test_bodies_use_the_mode_and_runs_folder_of_setup(name):
    """Below Setup, the notebooks read the mode from `MODE`/`SMOKE` and the runs from `COURSE_DIR`: a student's
    `KCOLOR_MODE` must reach every run (kcolor's own default only sees the environment)."""
    cells = read(name).cells
    setup = next(i for i, cell in enumerate(cells) if cell.source.startswith("## Setup")) + 1
    for index, cell in enumerate(cells):
        if cell.cell_type != "code" or index == setup:
            continue
        for stale in ("is_smoke_mode", "KCOLOR_SMOKE", "ROOT /", "runs/course"):
            assert stale not in cell.source, f"{name}, cell {index}: use MODE, SMOKE and COURSE_DIR, not {stale!r}"
        for call in COURSE_FUNCTIONS.finditer(cell.source):
            arguments = call_arguments(cell.source, call.end())
            assert "mode=MODE" in arguments and "COURSE_DIR" in arguments, (
                f"{name}, cell {index}: pass course_dir=COURSE_DIR, mode=MODE to {call.group(1)}({arguments})"
            )


MARKDOWN_BUDGET = {"01_data_preparation.ipynb": 900, "02_training_the_gan.ipynb": 1360, "03_evaluation.ipynb": 1050,
                   "04_colorize_your_photos.ipynb": 700}  # fmt: skip
"""Markdown words per notebook, without the Setup text (the same in all four)."""
COURSE_MARKDOWN_BUDGET = 4500
"""Markdown words of the whole course, the Setup text counted four times."""


def markdown_words(notebook, setup=True):
    """Words of the notebook's markdown cells, data-URI pictures excluded; without the Setup text if not `setup`."""
    cells = [cell for cell in notebook.cells if cell.cell_type == "markdown"]
    if not setup:
        cells = [cell for cell in cells if not cell.source.startswith("## Setup")]
    return sum(len(DATA_URI_PICTURE.sub(" ", cell.source).split()) for cell in cells)


@pytest.mark.parametrize("name", EXPECTED)
def test_notebook_markdown_fits_its_word_budget(name):
    words = markdown_words(read(name), setup=False)
    assert words <= MARKDOWN_BUDGET[name], f"{name} has {words} words of markdown: cut to {MARKDOWN_BUDGET[name]}"


def test_course_markdown_fits_the_word_budget():
    words = {name: markdown_words(read(name)) for name in EXPECTED}
    assert sum(words.values()) <= COURSE_MARKDOWN_BUDGET, f"{sum(words.values())} words of markdown: {words}"


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
def test_ends_with_conclusion_and_exercises_with_hints_and_hidden_solutions(name):
    """Two or three exercises, each a markdown cell `N. **Title.** ...` with a `*Hint:*`, followed by its solution:
    a code cell starting `# Solution to exercise N`, hidden until the student opens it (Jupyter and Colab honour
    `jupyter.source_hidden`). nbval runs the solutions. At least two of them write Keras code."""
    notebook = read(name)
    assert headings(notebook, 2)[-2:] == ["Conclusion", "Exercises"]
    cells = notebook.cells
    start = next(i for i, cell in enumerate(cells) if cell.source.startswith("## Exercises"))
    exercises = [(i, cell) for i, cell in enumerate(cells[start:], start)
                 if cell.cell_type == "markdown" and re.match(r"\d+\. \*\*", cell.source)]  # fmt: skip
    assert 2 <= len(exercises) <= 3, f"{name}: two or three exercises, each a markdown cell `N. **Title.** ...`"
    keras_solutions = 0
    for number, (index, exercise) in enumerate(exercises, 1):
        assert exercise.source.startswith(f"{number}. **"), f"{name}: exercise {number} is numbered wrong"
        assert "*Hint:*" in exercise.source, f"{name}: exercise {number} has no *Hint:*"
        solution = cells[index + 1] if index + 1 < len(cells) else None
        assert solution is not None and solution.cell_type == "code", f"{name}: exercise {number} has no solution"
        assert solution.source.startswith(f"# Solution to exercise {number}"), solution.source[:60]
        assert solution.metadata.get("jupyter", {}).get("source_hidden") is True, (
            f"{name}: hide the solution to exercise {number} (metadata jupyter.source_hidden: true)"
        )
        keras_solutions += "keras." in solution.source or "layers." in solution.source
    assert keras_solutions >= 2, f"{name}: at least two solutions must write Keras code"


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
