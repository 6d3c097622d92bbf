"""Plotly figures built on the server from selector data, embedded in pages as JSON.

Pure functions: no database, no request. Each returns a ``Chart`` whose ``figure`` (data,
layout, config) is what the page's local plotly.js draws, and what tests read.
"""

from .base import Chart
from .edition import activity_chart, efficiency_chart, progress_chart
from .history import history_chart
from .imagenet import imagenet_chart, largest_fall, record_steps
from .pareto import pareto_front
from .robustness import robustness_chart

__all__ = [
    "Chart",
    "activity_chart",
    "efficiency_chart",
    "history_chart",
    "imagenet_chart",
    "largest_fall",
    "pareto_front",
    "progress_chart",
    "record_steps",
    "robustness_chart",
]
