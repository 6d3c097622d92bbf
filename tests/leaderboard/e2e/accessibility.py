"""axe-core's WCAG 2.0 and 2.1 A and AA rules, run in the page a Playwright test has open.

The script is the one axe-playwright-python bundles (requirements/dev.txt pins the version,
and with it the axe-core release). ``violations`` returns axe's own findings; ``describe``
prints each as the rule, the page and the element, which is what a failing test should say.
"""

from __future__ import annotations

from axe_playwright_python.base import AXE_SCRIPT

WCAG_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")


def violations(page, *, exclude: tuple[str, ...] = ()) -> list[dict]:
    """axe's violations of the WCAG A/AA rules on the page as it is now.

    ``exclude`` names CSS selectors of third-party widgets whose insides are not ours to fix.
    """
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SCRIPT)
    context = {"exclude": [[selector] for selector in exclude]} if exclude else None
    options = {"runOnly": {"type": "tag", "values": list(WCAG_TAGS)}, "resultTypes": ["violations"]}
    result = page.evaluate(
        "([context, options]) => axe.run(context ?? document, options)", [context, options]
    )
    return result["violations"]


def describe(found: list[dict], *, url: str) -> str:
    """One line per element: the rule, its impact, the page, the element and axe's reason."""
    lines = []
    for violation in found:
        for node in violation["nodes"]:
            target = " ".join(str(part) for part in node["target"])
            reason = node.get("failureSummary", "").replace("\n", " ")
            lines.append(
                f"{violation['id']} ({violation['impact']}) on {url} at {target}: "
                f"{node['html'][:200]} -- {reason}"
            )
    return "\n".join(lines)
