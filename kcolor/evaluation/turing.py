"""The colorization Turing test: can a person tell real colours from generated ones?

Nazeri et al. (2018), like Isola et al. (2017) and Zhang et al. (2016), report
how often people mistake a generated colorization for a real photograph. In
each trial the player sees the real image and a colorized one side by side, in
random order, and picks the one they believe is real. The **fool rate** is the
fraction of trials in which the player picked the generated image: 50 % means
the colorizations are indistinguishable from real photos, 0 % means they are
always spotted.

This module holds the game logic only (pure and seeded, so it is testable);
`kcolor.evaluation.turing_interfaces` puts a notebook widget and a plain
text interface on top of it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from kcolor.evaluation.validation import check_images, check_predictions

LEFT = "left"
RIGHT = "right"


@dataclass(frozen=True)
class Trial:
    """One round of the game.

    Attributes:
        number: Position of the trial, from 0.
        real_index: Index of the real image.
        generated_index: Index of the generated image (equal to
            `real_index` in paired games: the same scene twice).
        source: Name of the model that generated the image.
        real_side: `"left"` or `"right"`.
    """

    number: int
    real_index: int
    generated_index: int
    source: str
    real_side: str


@dataclass(frozen=True)
class FoolRate:
    """Score of the game: how often the generated image was picked as real.

    Attributes:
        fooled: Trials in which the player picked the generated image.
        answered: Trials answered.
        rate: `fooled / answered` (NaN before any answer).
        low: Lower end of the Wilson 95 % interval of the rate.
        high: Upper end of the Wilson 95 % interval of the rate.
    """

    fooled: int
    answered: int
    rate: float
    low: float
    high: float

    def __str__(self) -> str:
        if self.answered == 0:
            return "No trials answered yet."
        return (
            f"Fooled {self.fooled} of {self.answered} times: fool rate {self.rate:.1%} "
            f"(95 % interval {self.low:.1%} to {self.high:.1%})."
        )


def wilson_interval(successes: int, trials: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion (95 % by default).

    Unlike the normal approximation it stays within [0, 1] and behaves for
    small `trials` and rates near 0 or 1.

    Args:
        successes: Number of successes.
        trials: Number of trials.
        z: Normal quantile (1.96 for 95 %).

    Returns:
        `(low, high)`; `(0.0, 1.0)` when `trials` is 0.

    Raises:
        ValueError: If `successes` is not within `0..trials`.

    Example:
        >>> [round(value, 3) for value in wilson_interval(5, 10)]
        [0.237, 0.763]
    """
    if not 0 <= successes <= trials:
        raise ValueError(f"successes must be within 0..trials, got {successes} of {trials}.")
    if trials == 0:
        return 0.0, 1.0
    proportion = successes / trials
    denominator = 1 + z**2 / trials
    center = (proportion + z**2 / (2 * trials)) / denominator
    half_width = z * math.sqrt(proportion * (1 - proportion) / trials + z**2 / (4 * trials**2)) / denominator
    return max(0.0, center - half_width), min(1.0, center + half_width)


def score_answers(fooled: list[bool]) -> FoolRate:
    """Scores a list of outcomes (True when the player picked the generated image).

    Example:
        >>> score_answers([True, False, False, False]).rate
        0.25
    """
    count = sum(fooled)
    low, high = wilson_interval(count, len(fooled))
    rate = count / len(fooled) if fooled else float("nan")
    return FoolRate(fooled=count, answered=len(fooled), rate=rate, low=low, high=high)


class TuringTest:
    """A seeded sequence of real-versus-generated trials and the player's answers.

    Args:
        real_rgb: `(N, H, W, 3)` uint8 real images.
        generated: `(N, H, W, 3)` uint8 colorizations of the same images, or
            model name to such arrays (each trial then uses a random model).
        num_trials: Number of trials; images are drawn without replacement
            while possible.
        seed: Seed of the trial order and sides (same seed, same game).
        paired: When True (default) each trial shows a real image and the
            colorization of that same image; when False the generated image
            shows a different random scene, so only colour gives it away.

    Raises:
        ValueError: For invalid images, mismatched shapes or `num_trials` < 1.

    Example:
        >>> game = TuringTest(real, {"GAN": colorized}, num_trials=2, seed=0)  # doctest: +SKIP
        >>> left, right = game.images(0)  # doctest: +SKIP
        >>> game.answer(0, "left")  # doctest: +SKIP
        >>> print(game.score())  # doctest: +SKIP
    """

    def __init__(
        self,
        real_rgb,
        generated: np.ndarray | Mapping[str, np.ndarray],
        num_trials: int = 20,
        seed: int | None = 0,
        paired: bool = True,
    ):
        self.real_rgb = check_images(real_rgb, "real_rgb")
        if not isinstance(generated, Mapping):
            generated = {"generated": generated}
        self.generated = check_predictions(self.real_rgb, generated)
        if not self.generated:
            raise ValueError("generated is empty: give at least one set of colorized images.")
        if num_trials < 1:
            raise ValueError(f"num_trials must be at least 1, got {num_trials}.")
        self.trials = self._make_trials(num_trials, np.random.default_rng(seed), paired)
        self.choices: dict[int, str] = {}

    def _make_trials(self, num_trials: int, generator: np.random.Generator, paired: bool) -> list[Trial]:
        count = len(self.real_rgb)
        real_indices = generator.choice(count, size=num_trials, replace=num_trials > count)
        generated_indices = real_indices if paired else generator.choice(count, size=num_trials)
        sources = generator.choice(list(self.generated), size=num_trials)
        real_sides = np.where(generator.random(num_trials) < 0.5, LEFT, RIGHT)
        return [
            Trial(number, int(real), int(fake), str(source), str(side))
            for number, (real, fake, source, side) in enumerate(
                zip(real_indices, generated_indices, sources, real_sides)
            )
        ]

    def _trial(self, number: int) -> Trial:
        if not 0 <= number < len(self.trials):
            raise ValueError(f"There is no trial {number}; trials are numbered 0..{len(self.trials) - 1}.")
        return self.trials[number]

    def images(self, number: int) -> tuple[np.ndarray, np.ndarray]:
        """Returns the `(left, right)` uint8 images of a trial.

        Raises:
            ValueError: For a trial number out of range.
        """
        trial = self._trial(number)
        real = self.real_rgb[trial.real_index]
        generated = self.generated[trial.source][trial.generated_index]
        return (real, generated) if trial.real_side == LEFT else (generated, real)

    def answer(self, number: int, choice: str) -> bool:
        """Records which side the player believes is real.

        Args:
            number: The trial number.
            choice: `"left"` or `"right"`.

        Returns:
            True when the player was fooled (picked the generated image).

        Raises:
            ValueError: For an unknown trial, a choice other than left/right,
                or a trial already answered.
        """
        trial = self._trial(number)
        if choice not in (LEFT, RIGHT):
            raise ValueError(f"choice must be {LEFT!r} or {RIGHT!r}, got {choice!r}.")
        if number in self.choices:
            raise ValueError(f"Trial {number} is already answered.")
        self.choices[number] = choice
        return choice != trial.real_side

    @property
    def next_trial(self) -> int | None:
        """Number of the first unanswered trial, or None when the game is over."""
        return next((trial.number for trial in self.trials if trial.number not in self.choices), None)

    @property
    def finished(self) -> bool:
        """Whether every trial has been answered."""
        return self.next_trial is None

    def score(self, source: str | None = None) -> FoolRate:
        """Fool rate over the answered trials.

        Args:
            source: Only count trials of this model; None for all.

        Returns:
            The `FoolRate`.
        """
        return score_answers(
            [
                self.choices[trial.number] != trial.real_side
                for trial in self.trials
                if trial.number in self.choices and source in (None, trial.source)
            ]
        )

    def scores_by_source(self) -> dict[str, FoolRate]:
        """The fool rate of each model, for games with several."""
        return {source: self.score(source) for source in self.generated}
