"""Upload to scored through the web, as a student sees it: log in on the site's login page,
upload through the submission form (as its script does, asking for JSON), then poll the
submission page's own status URL until the score is in, and on until the robustness track's
run (if the challenge has the track) is measured.

Start the site first (``make run``, or ``python -m leaderboard.devserver --no-baselines`` for an
idle worker), then:

    python -m leaderboard.bench.upload_scored --url http://127.0.0.1:8000 --uploads 5

The default model is the shipped LeNet-5 (``baselines/weights``, safetensors with its
architecture name), the demo's own network. Uploads go one at a time, each once the worker is
idle again, so each figure is one submission's, not a queue's.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
LENET = ROOT / "baselines" / "weights" / "baseline-lenet5.safetensors"
POLL_S = 0.05
GIVE_UP_S = 900.0
WAITING = ("pending", "running")


@dataclass(frozen=True)
class Timing:
    request_s: float  # the upload request's answer
    scored_s: float  # the page's status JSON says scored (or failed)
    robustness_s: float | None  # ... and says the robustness run is measured
    status: str


def log_in(*, url: str, username: str, password: str) -> requests.Session:
    """A browser's session: the login page's CSRF cookie, then its form."""
    session = requests.Session()
    page = session.get(f"{url}/accounts/login/", timeout=30)
    page.raise_for_status()
    answer = session.post(
        f"{url}/accounts/login/",
        data={
            "login": username,
            "password": password,
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
        headers={"Referer": f"{url}/accounts/login/"},
        timeout=30,
    )
    if "sessionid" not in session.cookies:
        raise SystemExit(f"could not log in as {username!r} (HTTP {answer.status_code})")
    return session


def newest_edition(*, url: str, session: requests.Session, challenge: str) -> str:
    """The challenge's newest edition slug, from its page's links."""
    html = session.get(f"{url}/c/{challenge}/", timeout=30).text
    slugs = re.findall(rf'href="/c/{re.escape(challenge)}/([\w-]+)/submit/"', html)
    if not slugs:
        raise SystemExit(f"no open edition of {challenge!r} takes submissions")
    return slugs[0]


def upload_once(
    *, url: str, session: requests.Session, submit: str, model: Path, arch: str, name: str
) -> Timing:
    started = time.monotonic()
    with model.open("rb") as fh:
        answer = session.post(
            f"{url}{submit}",
            data={"method_name": name, "arch": arch, "description": ""},
            files={"file": (model.name, fh, "application/octet-stream")},
            headers={
                "Accept": "application/json",
                "X-CSRFToken": session.cookies["csrftoken"],
                "Referer": f"{url}{submit}",
            },
            timeout=120,
        )
    request_s = time.monotonic() - started
    if answer.status_code != 200:
        raise SystemExit(f"upload refused: HTTP {answer.status_code} {answer.text[:300]}")
    status_url = f"{url}/submissions/{answer.json()['id']}/status/"
    scored_s = robustness_s = None
    state = {}
    while time.monotonic() - started < GIVE_UP_S:
        state = session.get(status_url, timeout=30).json()
        now = time.monotonic() - started
        if scored_s is None and state.get("final"):
            scored_s = now
        if scored_s is not None and state.get("robustness") not in WAITING:
            robustness_s = now if state.get("robustness") else None
            break
        time.sleep(POLL_S)
    if scored_s is None:
        raise SystemExit(f"not scored within {GIVE_UP_S:.0f} s: {state}")
    return Timing(request_s, scored_s, robustness_s, str(state.get("status")))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--username", default="demo")
    parser.add_argument("--password", default="demo-password")
    parser.add_argument("--challenge", default="demo")
    parser.add_argument("--uploads", type=int, default=5)
    parser.add_argument("--model", type=Path, default=LENET)
    parser.add_argument("--arch", default="baseline-lenet5", help="for safetensors weights")
    args = parser.parse_args(argv)
    url = args.url.rstrip("/")
    session = log_in(url=url, username=args.username, password=args.password)
    edition = newest_edition(url=url, session=session, challenge=args.challenge)
    submit = f"/c/{args.challenge}/{edition}/submit/"
    session.get(f"{url}{submit}", timeout=30)  # the form page, as a browser opens it first
    print(f"uploading {args.model.name} to {url}{submit}, {args.uploads} times, one at a time")
    timings = []
    for i in range(args.uploads):
        timing = upload_once(
            url=url,
            session=session,
            submit=submit,
            model=args.model,
            arch=args.arch,
            name=f"upload timing {i + 1}",
        )
        timings.append(timing)
        robust = "-" if timing.robustness_s is None else f"{timing.robustness_s:.2f} s"
        print(
            f"{i + 1:3d}  {timing.status:7s} request {timing.request_s:.2f} s, scored "
            f"{timing.scored_s:.2f} s, robustness measured {robust}  (load {_load()})"
        )
    _summary(timings)
    return 0


def _summary(timings: list[Timing]) -> None:
    def line(label: str, values: list[float]) -> str:
        return (
            f"{label}: median {statistics.median(values):.2f} s "
            f"(min {min(values):.2f}, max {max(values):.2f})"
        )

    print(line("upload request", [t.request_s for t in timings]))
    print(line("upload to scored", [t.scored_s for t in timings]))
    robust = [t.robustness_s for t in timings if t.robustness_s is not None]
    if robust:
        print(line("upload to robustness measured", robust))
    print(f"load average {_load()}")


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


if __name__ == "__main__":
    raise SystemExit(main())
