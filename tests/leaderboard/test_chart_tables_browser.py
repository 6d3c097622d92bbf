"""Each chart's text alternative in a real browser: the "Show as table" toggle opens by keyboard
onto a table of the values plotly.js actually drew, and the plot is an image with a summary."""

from __future__ import annotations

import pytest

from leaderboard import services

from .chart_tables import pct
from .test_browser import CHROMIUM, page  # noqa: F401  (the browser fixture)
from .test_reported_pages import seed

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="chromium is not installed"),
]


def opened_table(page, element_id: str) -> list[list[str]]:  # noqa: F811
    """Open the chart's toggle with the keyboard; its body rows' cells as shown."""
    toggle = page.locator(f"#{element_id}-table summary")
    table = page.locator(f"#{element_id}-table table")
    assert not table.is_visible()  # closed until asked for
    toggle.focus()
    page.keyboard.press("Enter")
    table.wait_for(state="visible")
    return table.locator("tbody tr").evaluate_all(
        "rows => rows.map(r => Array.from(r.cells).map(c => c.innerText.trim()))"
    )


def test_the_imagenet_chart_and_its_table_show_the_same_values(page, live_server):  # noqa: F811
    rows = services.ilsvrc_history_rows()
    page.goto(f"{live_server.url}/history/imagenet/")
    page.wait_for_selector("#chart-imagenet[data-rendered=true]")
    drawn = page.evaluate(
        "() => document.getElementById('chart-imagenet').data.map(t => [t.name, t.x, t.y])"
    )
    points = next(t for t in drawn if t[0] == "Top-5 error, reported")
    assert page.locator("#chart-imagenet .scatterlayer .trace path.point").count() >= len(rows)
    cells = opened_table(page, "chart-imagenet")
    assert [(int(c[0]), c[3]) for c in cells] == [
        (x, pct(y)) for x, y in zip(points[1], points[2], strict=True)
    ]
    image = page.get_by_role("img", name="ImageNet (ILSVRC) classification results reported")
    assert image.count() == 1  # the plot, announced by its summary


def test_the_history_chart_table_opens_under_the_drawn_chart(page, live_server, challenge):  # noqa: F811
    seed(challenge)
    page.goto(f"{live_server.url}{challenge.get_absolute_url()}")
    page.wait_for_selector("#chart-history[data-rendered=true]")
    record = page.evaluate(
        "() => document.getElementById('chart-history').data.find(t => t.name === 'Best so far')"
    )
    cells = opened_table(page, "chart-history")
    shown = [(int(c[0]), c[3]) for c in cells if c[1] == "Best so far (record)"]
    assert shown == [
        (round(x + 0.5), pct(y)) for x, y in zip(record["x"][:-1], record["y"][:-1], strict=True)
    ]
    assert page.get_by_role("img", name="Error rate by year for Fashion").count() == 1
