"""The verdict under the baselines table: does each deeper network do better, and by how much
per added layer? Stated with the numbers, and plainly where the answer is no."""

from __future__ import annotations

from leaderboard.selectors.depth_trend import depth_trend


def test_every_deeper_network_better_with_shrinking_gains_per_layer() -> None:
    trend = depth_trend(
        label="clean top-1 error",
        values=[
            ("LeNet-5", 5, 0.0983),
            ("MLP", 2, 0.1200),
            ("ResNet-20", 20, 0.0552),
            ("AlexNet small", 8, 0.0833),
        ],
    )
    assert [p.name for p in trend.points] == ["MLP", "LeNet-5", "AlexNet small", "ResNet-20"]
    assert trend.deeper_always_better and trend.diminishing
    # -2.17 points over 3 layers, -1.50 over 3, -2.81 over 12: 0.72 > 0.50 > 0.23 a layer.
    assert trend.sentence() == (
        "Clean top-1 error: each deeper network did better here: MLP (2 layers) 12.00%, "
        "LeNet-5 (5 layers) 9.83% (\u22122.17 points), AlexNet small (8 layers) 8.33% "
        "(\u22121.50 points), ResNet-20 (20 layers) 5.52% (\u22122.81 points). Per added layer: "
        "\u22120.72 points, \u22120.50 points, \u22120.23 points (diminishing returns)."
    )


def test_a_deeper_network_that_does_worse_is_named_with_both_numbers() -> None:
    trend = depth_trend(
        label="robust error",
        values=[
            ("MLP", 2, 0.3961),
            ("LeNet-5", 5, 0.4430),
            ("AlexNet small", 8, 0.4295),
            ("ResNet-20", 20, 0.4666),
        ],
    )
    assert not trend.deeper_always_better and not trend.diminishing
    assert trend.best.name == "MLP"
    sentence = trend.sentence()
    assert sentence.startswith("Robust error: deeper was not better at every step here: ")
    assert "LeNet-5 (5 layers) 44.30% against MLP (2 layers) 39.61%" in sentence
    assert "ResNet-20 (20 layers) 46.66% against AlexNet small (8 layers) 42.95%" in sentence
    assert "The lowest: MLP (2 layers) 39.61%. In order of depth: MLP (2 layers) 39.61%, " in (
        sentence
    )


def test_same_depth_keeps_the_better_network_and_missing_values_are_left_out() -> None:
    trend = depth_trend(
        label="clean top-1 error",
        values=[
            ("AlexNet", 8, 0.09),
            ("AlexNet small", 8, 0.08),
            ("VGG-11", 11, None),  # not trained: no value
            ("custom", None, 0.01),  # no depth: not on the depth axis
            ("LeNet-5", 5, 0.10),
        ],
    )
    assert [(p.name, p.depth) for p in trend.points] == [("LeNet-5", 5), ("AlexNet small", 8)]
    assert trend.deeper_always_better and not trend.diminishing  # one step: nothing to shrink


def test_gains_that_grow_per_layer_are_not_called_diminishing() -> None:
    trend = depth_trend(label="e", values=[("a", 2, 0.30), ("b", 4, 0.29), ("c", 5, 0.20)])
    assert trend.deeper_always_better and not trend.diminishing
    assert trend.sentence().endswith("(not diminishing at every step).")


def test_one_network_says_nothing() -> None:
    trend = depth_trend(label="e", values=[("a", 2, 0.3)])
    assert trend.steps == () and trend.sentence() == ""
