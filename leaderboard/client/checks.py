"""Following a free model check and describing its report: what a submission of the file
would get, before it costs one."""

from __future__ import annotations

from .console import Console
from .follow import poll
from .transport import Api

FINISHED = {"done", "failed"}


def follow_check(
    *, api: Api, check_id: str, console: Console, timeout_s: float | None = None
) -> dict:
    """Poll the check until the worker is done with it; return its last state."""

    def late(check: dict) -> str:
        return (
            f"check {check_id} is still {check['status']} after {timeout_s:g} s; "
            f"its page shows the result when it comes: {check['url']}"
        )

    return poll(
        api=api,
        path=f"/api/checks/{check_id}/",
        finished=lambda check: check["status"] in FINISHED,
        line=check_line,
        late=late,
        console=console,
        timeout_s=timeout_s,
    )


def check_line(check: dict) -> str:
    """'queued', 'running', 'would be scored', 'would fail: why [code]', 'not checked: why'."""
    if check["status"] == "failed":
        return f"not checked: {check.get('error_message') or 'no reason recorded'}"
    if check["status"] != "done":
        return check["status"]
    report = check.get("report") or {}
    if check.get("ok"):
        return "would be scored"
    return f"would fail: {report.get('error_message')} [{report.get('error_code')}]"


def describe_check(check: dict) -> str:
    """The verdict, the report's facts and each sample's top guesses, one per line."""
    report = check.get("report") or {}
    rows = [
        ("check", check["id"]),
        ("file", check["original_name"] + (f" [{check['arch']}]" if check.get("arch") else "")),
        ("edition", f"{check['challenge']}/{check['edition']}"),
        ("verdict", check_line(check)),
    ]
    if report:
        loads = {True: "yes", False: "no"}.get(report.get("loads"), "unknown")
        seconds = report.get("seconds_per_image")
        rows += [
            ("format", report.get("format") or "not recognised"),
            ("loads", loads),
            ("output shape", f"{_shape(report.get('output_shape'))} "
                             f"(expected {_shape(report.get('expected_shape'))})"),
            ("per image", "-" if seconds is None else f"{1000 * seconds:.1f} ms (an upper bound)"),
        ]  # fmt: skip
    if report.get("error_code"):
        rows.append(("error", f"{report['error_code']}: {report.get('error_message')}"))
    rows.append(("page", check["url"]))
    width = max(len(k) for k, _ in rows)
    lines = [f"{k.ljust(width)}  {v}" for k, v in rows]
    samples = report.get("samples") or []
    if samples:
        lines.append(f"top-5 guesses on {len(samples)} public sample images (true class *):")
        name_width = max(len(s["label_name"]) for s in samples)
        for sample in samples:
            guesses = ", ".join(
                f"{'*' if g['class'] == sample['label'] else ''}{g['name']} {100 * g['prob']:.1f}%"
                for g in sample["guesses"]
            )
            lines.append(f"  {sample['label_name'].ljust(name_width)}  {guesses or '-'}")
    lines.append("a check is not a score and never appears on a board")
    return "\n".join(lines)


def _shape(shape: list | None) -> str:
    return "none" if not shape else "[" + ", ".join(str(d) for d in shape) + "]"
