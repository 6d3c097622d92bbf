"""The confusion matrix's shaded cells keep the page's text readable (WCAG 2.1 AA, 4.5:1)."""

from __future__ import annotations

import re

import pytest

from leaderboard.selectors.insights import _cell_colour

INK = (0x1D, 0x23, 0x30)  # site.css --fg, the colour a cell's text inherits


def luminance(rgb: tuple[float, ...]) -> float:
    """WCAG 2.1's relative luminance of an sRGB colour given as 0-255 channels."""
    linear = [
        c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in (x / 255 for x in rgb)
    ]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def over_white(css: str) -> tuple[float, ...]:
    """The colour an ``rgba(...)`` background shows on the table's white."""
    if css == "transparent":
        return (255, 255, 255)
    r, g, b, alpha = (float(x) for x in re.fullmatch(r"rgba\((.+)\)", css).group(1).split(","))
    return tuple(255 * (1 - alpha) + c * alpha for c in (r, g, b))


@pytest.mark.parametrize("share", [0.0, 0.01, 0.25, 0.5, 0.75, 0.9, 1.0])
def test_every_shade_keeps_the_text_at_4_5_to_1(share):
    colour = _cell_colour(share)
    assert colour["color"] == "inherit"
    assert contrast(INK, over_white(colour["background"])) >= 4.5


def test_the_shades_still_rise_with_the_share():
    shades = [luminance(over_white(_cell_colour(s)["background"])) for s in (0.1, 0.5, 1.0)]
    assert shades == sorted(shades, reverse=True) and shades[0] - shades[-1] > 0.3
