"""Help pages: "Export your model", one short recipe per library and the architecture names.

Each recipe is a Python file in ``leaderboard/docs_snippets/``, shown as it is; the tests run
the same files (those whose exporter installs here) and check what they write.
"""

from __future__ import annotations

from pathlib import Path

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from leaderboard.evaluation.architectures import architecture_list

SNIPPETS_DIR = Path(__file__).resolve().parent.parent / "docs_snippets"
FAMILY_ORDER = ("torchvision", "timm", "baselines")


def snippets() -> dict[str, str]:
    """Each recipe's text by its file's stem (``pytorch_onnx``...)."""
    return {
        path.stem: path.read_text(encoding="utf-8") for path in sorted(SNIPPETS_DIR.glob("*.py"))
    }


def architecture_families() -> list[tuple[str, list[str]]]:
    """The architecture names by family: torchvision, timm, baselines, then any other."""
    grouped: dict[str, list[str]] = {}
    for row in architecture_list():
        grouped.setdefault(row["family"], []).append(row["name"])
    rank = {family: i for i, family in enumerate(FAMILY_ORDER)}
    return sorted(grouped.items(), key=lambda item: (rank.get(item[0], len(rank)), item[0]))


@require_GET
def export_page(request: HttpRequest) -> HttpResponse:
    context = {"snippets": snippets(), "families": architecture_families()}
    return render(request, "leaderboard/export.html", context)
