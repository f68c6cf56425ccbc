"""The Turing-test game: seeded trials, scoring, the text interface with scripted input, the widget."""

import numpy as np
import pytest

from kcolor.evaluation import FoolRate, TuringTest, TuringWidget, play_in_text, play_turing_test, wilson_interval
from kcolor.evaluation.turing import LEFT, RIGHT, score_answers


def no_display(*args):
    pass


@pytest.fixture
def fakes(photos):
    return (255 - photos).astype(np.uint8)


def is_real(game, image):
    return any(np.array_equal(image, real) for real in game.real_rgb)


def test_trials_are_seeded(photos, fakes):
    first = TuringTest(photos, fakes, num_trials=8, seed=4).trials
    assert first == TuringTest(photos, fakes, num_trials=8, seed=4).trials
    assert first != TuringTest(photos, fakes, num_trials=8, seed=5).trials
    assert sorted(trial.real_index for trial in first) == list(range(8))  # no image repeats while possible
    assert {trial.real_side for trial in first} == {LEFT, RIGHT}
    assert all(trial.generated_index == trial.real_index for trial in first)
    assert len(TuringTest(photos, fakes, num_trials=20).trials) == 20


def test_images_put_the_real_one_on_its_side(photos, fakes):
    game = TuringTest(photos, fakes, num_trials=8, seed=0)
    for trial in game.trials:
        left, right = game.images(trial.number)
        real, generated = (left, right) if trial.real_side == LEFT else (right, left)
        np.testing.assert_array_equal(real, photos[trial.real_index])
        np.testing.assert_array_equal(generated, fakes[trial.real_index])


def test_unpaired_trials_show_different_scenes(photos, fakes):
    game = TuringTest(photos, fakes, num_trials=30, seed=0, paired=False)
    assert any(trial.generated_index != trial.real_index for trial in game.trials)


def test_answers_and_fool_rate(photos, fakes):
    game = TuringTest(photos, fakes, num_trials=4, seed=1)
    sides = [trial.real_side for trial in game.trials]
    other = {LEFT: RIGHT, RIGHT: LEFT}
    assert game.answer(0, other[sides[0]]) is True  # picked the generated one: fooled
    assert game.answer(1, sides[1]) is False
    assert game.next_trial == 2 and not game.finished
    assert game.score() == FoolRate(
        fooled=1, answered=2, rate=0.5, low=pytest.approx(0.0945, abs=1e-4), high=pytest.approx(0.9055, abs=1e-4)
    )
    game.answer(2, sides[2])
    game.answer(3, sides[3])
    assert game.finished and game.next_trial is None
    assert game.score().rate == 0.25 and game.score().answered == 4
    with pytest.raises(ValueError, match="already answered"):
        game.answer(3, LEFT)
    with pytest.raises(ValueError, match="choice"):
        TuringTest(photos, fakes, num_trials=2).answer(0, "middle")
    with pytest.raises(ValueError, match="no trial"):
        game.images(4)


def test_scores_per_model(photos, fakes):
    game = TuringTest(photos, {"L1": fakes, "GAN": photos // 2}, num_trials=12, seed=2)
    assert {trial.source for trial in game.trials} == {"L1", "GAN"}
    for trial in game.trials:  # always pick the left image
        game.answer(trial.number, LEFT)
    scores = game.scores_by_source()
    for source in ("L1", "GAN"):
        trials = [trial for trial in game.trials if trial.source == source]
        assert scores[source].answered == len(trials)
        assert scores[source].fooled == sum(trial.real_side == RIGHT for trial in trials)
    assert scores["L1"].fooled + scores["GAN"].fooled == game.score().fooled


def test_wilson_interval_known_values():
    assert wilson_interval(5, 10) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    low, high = wilson_interval(0, 20)
    assert low == 0.0 and high == pytest.approx(0.1611, abs=1e-4)
    assert wilson_interval(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError):
        wilson_interval(3, 2)
    assert np.isnan(score_answers([]).rate)
    assert str(score_answers([])) == "No trials answered yet."
    assert "fool rate 25.0%" in str(score_answers([True, False, False, False]))


def test_text_interface_with_scripted_input(photos, fakes):
    game = TuringTest(photos, fakes, num_trials=3, seed=3)
    sides = [trial.real_side for trial in game.trials]
    other = {LEFT: "r", RIGHT: "l"}
    replies = iter(["maybe", sides[0][0], other[sides[1]].upper() + "  ", "q"])
    prompts, messages, shown = [], [], []

    def scripted_input(prompt):
        prompts.append(prompt)
        return next(replies)

    score = play_in_text(
        game, input_function=scripted_input, output_function=messages.append, show_pair=lambda *pair: shown.append(pair)
    )
    assert score.answered == 2 and score.fooled == 1
    assert messages[0].startswith("Please type l")
    assert messages[1] == "Right, well spotted."
    assert messages[2].startswith("Fooled!")
    assert messages[-1] == str(score)
    assert prompts[0].startswith("Trial 1/3") and prompts[-1].startswith("Trial 3/3")
    assert len(shown) == 4 and shown[0][2] == "Trial 1 of 3: which image is real?"
    assert game.next_trial == 2  # quitting leaves the rest unanswered


def test_play_turing_test_text_mode(photos, fakes):
    replies = iter(["l"] * 5)
    game = play_turing_test(
        photos,
        fakes,
        num_trials=5,
        seed=0,
        interface="text",
        input_function=lambda prompt: next(replies),
        output_function=no_display,
        show_pair=no_display,
    )
    assert game.finished
    assert game.score().fooled == sum(trial.real_side == RIGHT for trial in game.trials)
    with pytest.raises(ValueError, match="interface"):
        play_turing_test(photos, fakes, interface="voice")


def test_widget_buttons_play_the_game(photos, fakes):
    pytest.importorskip("ipywidgets")
    game = TuringTest(photos, fakes, num_trials=2, seed=0)
    widget = TuringWidget(game, scale=2)
    assert bytes(widget.images[LEFT].value).startswith(b"\x89PNG")
    first_left = bytes(widget.images[LEFT].value)
    widget.buttons[game.trials[0].real_side].click()
    assert game.choices == {0: game.trials[0].real_side}
    assert "Right, well spotted." in widget.status.value and "Trial 2 of 2" in widget.status.value
    assert bytes(widget.images[LEFT].value) != first_left
    widget.buttons[LEFT].click()
    assert game.finished and widget.buttons[RIGHT].disabled
    assert "Game over" in widget.status.value and str(game.score()) in widget.status.value
    widget.choose(LEFT)  # clicks after the end are ignored
    assert game.score().answered == 2


def test_game_input_errors(photos, fakes):
    with pytest.raises(ValueError, match="num_trials"):
        TuringTest(photos, fakes, num_trials=0)
    with pytest.raises(ValueError, match="empty"):
        TuringTest(photos, {}, num_trials=2)
    with pytest.raises(ValueError, match="shape"):
        TuringTest(photos, fakes[:3])
