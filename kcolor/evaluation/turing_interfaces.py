"""Ways to play the colorization Turing test: a notebook widget and plain text.

`play_turing_test` picks the notebook widget (`TuringWidget`, two
images with a button under each) when `ipywidgets` is installed and a
Jupyter kernel is running, and otherwise the text interface
(`play_in_text`), which shows each pair with matplotlib and reads the
answer with `input()`. Both drive the same `kcolor.evaluation.turing.TuringTest`,
so the fool rate is computed the same way.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping

import numpy as np

from kcolor.evaluation.turing import LEFT, RIGHT, FoolRate, TuringTest

ANSWER_KEYS = {"l": LEFT, "left": LEFT, "r": RIGHT, "right": RIGHT}
QUIT_KEYS = ("q", "quit")


def feedback_message(game: TuringTest, number: int, fooled: bool) -> str:
    """Tells the player whether they spotted the real image of a trial."""
    return f"Fooled! The {game.trials[number].real_side} one was real." if fooled else "Right, well spotted."


def show_pair_with_matplotlib(left: np.ndarray, right: np.ndarray, title: str) -> None:
    """Displays two images side by side with matplotlib (inline in notebooks).

    Args:
        left: `(H, W, 3)` uint8 image shown on the left.
        right: `(H, W, 3)` uint8 image shown on the right.
        title: Figure title.
    """
    import matplotlib.pyplot as plt

    from kcolor.evaluation.figures import image_grid, show_image

    figure, axes = image_grid(1, 2, cell_inches=3.0)
    show_image(axes[0, 0], left, title=LEFT)
    show_image(axes[0, 1], right, title=RIGHT)
    figure.suptitle(title)
    plt.show()
    plt.close(figure)


def play_in_text(
    game: TuringTest,
    input_function: Callable[[str], str] = input,
    output_function: Callable[[str], None] = print,
    show_pair: Callable[[np.ndarray, np.ndarray, str], None] = show_pair_with_matplotlib,
    feedback: bool = True,
) -> FoolRate:
    """Plays the unanswered trials of a game with text prompts.

    Args:
        game: The `TuringTest` to play (answers are recorded in it).
        input_function: Reads the player's reply given a prompt (`input`;
            inject a scripted function in tests).
        output_function: Writes messages (`print`).
        show_pair: Displays `(left, right, title)` before each prompt.
        feedback: Whether to say after each trial which image was real.

    Returns:
        The `FoolRate` over the answered trials; typing `q` stops early.

    Example:
        >>> replies = iter(["l", "r"])
        >>> score = play_in_text(game, input_function=lambda prompt: next(replies),
        ...                      show_pair=lambda *args: None)  # doctest: +SKIP
    """
    total = len(game.trials)
    while (number := game.next_trial) is not None:
        left, right = game.images(number)
        show_pair(left, right, f"Trial {number + 1} of {total}: which image is real?")
        reply = input_function(f"Trial {number + 1}/{total}: which is real, [l]eft or [r]ight? (q quits) ")
        reply = reply.strip().lower()
        if reply in QUIT_KEYS:
            break
        if reply not in ANSWER_KEYS:
            output_function("Please type l for left or r for right (q to quit).")
            continue
        fooled = game.answer(number, ANSWER_KEYS[reply])
        if feedback:
            output_function(feedback_message(game, number, fooled))
    score = game.score()
    output_function(str(score))
    return score


def _png_bytes(image: np.ndarray, scale: int) -> bytes:
    from PIL import Image

    picture = Image.fromarray(image)
    picture = picture.resize((picture.width * scale, picture.height * scale), Image.NEAREST)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


class TuringWidget:
    """An ipywidgets view of a `TuringTest`: two images, a button under each.

    Clicking "This one is real" records the answer and shows the next pair;
    the status line gives the running fool rate, and the final score at the
    end. Display it as the last expression of a cell, or with `display()`.

    Args:
        game: The game to play.
        scale: Upscaling factor of the (small) images, nearest neighbour.
        feedback: Whether to say after each trial which image was real.

    Raises:
        ImportError: If ipywidgets is not installed.
    """

    def __init__(self, game: TuringTest, scale: int = 6, feedback: bool = True):
        import ipywidgets as widgets

        self.game = game
        self.scale = scale
        self.feedback = feedback
        self.images = {side: widgets.Image(format="png") for side in (LEFT, RIGHT)}
        self.buttons = {side: widgets.Button(description="This one is real") for side in (LEFT, RIGHT)}
        for side, button in self.buttons.items():
            button.on_click(lambda _button, side=side: self.choose(side))
        self.status = widgets.HTML()
        columns = [widgets.VBox([self.images[side], self.buttons[side]]) for side in (LEFT, RIGHT)]
        self.view = widgets.VBox([widgets.HBox(columns), self.status])
        self._show(self.game.next_trial, "Which image has the real colours?")

    def _show(self, number: int | None, message: str) -> None:
        if number is None:
            for button in self.buttons.values():
                button.disabled = True
            self.status.value = f"{message}<br><b>Game over.</b> {self.game.score()}"
            return
        for side, image in zip((LEFT, RIGHT), self.game.images(number)):
            self.images[side].value = _png_bytes(image, self.scale)
        self.status.value = f"Trial {number + 1} of {len(self.game.trials)}. {message}"

    def choose(self, side: str) -> None:
        """Records that the player picked `side` as real and moves on."""
        number = self.game.next_trial
        if number is None:
            return
        fooled = self.game.answer(number, side)
        self._show(self.game.next_trial, feedback_message(self.game, number, fooled) if self.feedback else "")

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.view)


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and hasattr(shell, "kernel")


def play_turing_test(
    real_rgb,
    generated: np.ndarray | Mapping[str, np.ndarray],
    num_trials: int = 20,
    seed: int | None = 0,
    interface: str = "auto",
    **options,
) -> TuringTest:
    """Starts a Turing-test game in the best available interface.

    Args:
        real_rgb: `(N, H, W, 3)` uint8 real images.
        generated: Their colorizations, or model name to colorizations.
        num_trials: Number of trials.
        seed: Seed of the trial order.
        interface: `"widget"`, `"text"` or `"auto"` (widget inside a
            Jupyter kernel with ipywidgets installed, text otherwise).
        **options: Passed to `TuringWidget` or `play_in_text`.

    Returns:
        The `TuringTest`. With the widget the game goes on after the
        call returns: call `game.score()` once you have played.

    Raises:
        ValueError: For an unknown interface or invalid images.
        ImportError: For `interface="widget"` without ipywidgets.

    Example:
        >>> game = play_turing_test(truth, {"GAN": colorized}, num_trials=10)  # doctest: +SKIP
        >>> print(game.score())  # doctest: +SKIP
    """
    if interface not in ("auto", "widget", "text"):
        raise ValueError(f"interface must be 'auto', 'widget' or 'text', got {interface!r}.")
    game = TuringTest(real_rgb, generated, num_trials=num_trials, seed=seed)
    if interface == "auto":
        try:
            import ipywidgets  # noqa: F401
        except ImportError:
            interface = "text"
        else:
            interface = "widget" if _in_notebook() else "text"
    if interface == "widget":
        from IPython.display import display

        display(TuringWidget(game, **options))
    else:
        play_in_text(game, **options)
    return game
