"""Upload to running: from a student's upload request to the worker's claim of it.

Uploads go through the API's real endpoint (the CLI's ``submit``: multipart, ``Authorization:
Token``) of a running server; the claim is the submission's ``started_at``, stamped by the
worker. ``uploads_at_once`` sends one upload per student at the same instant (threads behind a
barrier); Locust's students log theirs (``locustfile.Student``) and ``read_upload_log`` reads
them back. Both give ``Upload`` records that ``upload_figures`` completes from the database.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import requests

from leaderboard.models import Submission

from .stats import percentile
from .students import Students

# Behind the production proxy every request arrives as HTTPS (else: a redirect to https://).
PROXY_HEADERS = {"X-Forwarded-Proto": "https"}


@dataclass(frozen=True)
class Upload:
    submission_id: str
    sent_at: float  # wall clock (time.time()) when the request started
    request_s: float  # request to response: store, commit, enqueue


@dataclass
class UploadFigures:
    uploads: int
    to_running_s: list[float] = field(default_factory=list)  # of those started
    request_s: list[float] = field(default_factory=list)
    run_s: list[float] = field(default_factory=list)  # started -> finished, of those finished
    finished: int = 0
    failed: int = 0  # finished with status failed
    refused: list[str] = field(default_factory=list)  # uploads the server did not take

    def lines(self) -> list[str]:
        if not self.uploads:
            return ["no uploads", *self.refused[:1]]
        started = len(self.to_running_s)
        out = [
            f"{self.uploads} uploads, {started} claimed by the worker, {self.finished} finished "
            f"({self.failed} failed), {len(self.refused)} refused"
        ]
        if self.to_running_s:
            ms = [s * 1000 for s in self.to_running_s]
            out.append(
                f"upload -> running: median {statistics.median(ms):.0f} ms, "
                f"p95 {percentile(ms, 95):.0f} ms, min {min(ms):.0f} ms, max {max(ms):.0f} ms"
            )
        if self.request_s:
            out.append(
                f"the upload request itself: median "
                f"{statistics.median(self.request_s) * 1000:.0f} ms, "
                f"max {max(self.request_s) * 1000:.0f} ms"
            )
        if self.run_s:
            out.append(
                f"the worker's time per upload (started -> finished): median "
                f"{statistics.median(self.run_s) * 1000:.0f} ms"
            )
        if self.refused:
            out.append(f"first refusal: {self.refused[0]}")
        return out


def upload_one(
    *, session: requests.Session, url: str, token: str, model: bytes, name: str
) -> Upload:
    """POST one model as the CLI does; raise ``RuntimeError`` unless the server took it (201)."""
    sent_at, started = time.time(), time.perf_counter()
    response = session.post(
        url,
        headers={**PROXY_HEADERS, "Authorization": f"Token {token}"},
        files={"file": ("tiny.onnx", model, "application/octet-stream")},
        data={"method_name": name},
        timeout=120,
    )
    request_s = time.perf_counter() - started
    if response.status_code != 201:
        raise RuntimeError(f"HTTP {response.status_code}: {response.text[:300]}")
    return Upload(submission_id=response.json()["id"], sent_at=sent_at, request_s=request_s)


def uploads_at_once(*, base: str, students: Students, count: int) -> tuple[list[Upload], list[str]]:
    """The first ``count`` students upload at the same moment; (uploads taken, refusals)."""
    if count > len(students.tokens):
        raise ValueError(
            f"{count} uploads at once need {count} students, not {len(students.tokens)}"
        )
    url = base + students.submit_path
    barrier = threading.Barrier(count)
    taken: list[Upload] = []
    refused: list[str] = []
    lock = threading.Lock()

    def student(index: int) -> None:
        with requests.Session() as session:
            barrier.wait()
            try:
                upload = upload_one(
                    session=session,
                    url=url,
                    token=students.tokens[index],
                    model=students.model,
                    name=f"at once {index}",
                )
            except (RuntimeError, requests.RequestException) as exc:
                with lock:
                    refused.append(f"{type(exc).__name__}: {exc}")
                return
            with lock:
                taken.append(upload)

    threads = [threading.Thread(target=student, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return taken, refused


def upload_figures(
    *, uploads: list[Upload], wait_s: float, refused: list[str] | None = None
) -> UploadFigures:
    """Read each upload's claim and end from the database, waiting up to ``wait_s`` for every
    one to be finished (0: take what is there now)."""
    by_id = {u.submission_id: u for u in uploads}
    deadline = time.monotonic() + wait_s
    while True:
        rows = list(
            Submission.objects.filter(pk__in=list(by_id)).values_list(
                "pk", "status", "started_at", "finished_at"
            )
        )
        done = [r for r in rows if r[1] in (Submission.Status.SCORED, Submission.Status.FAILED)]
        if len(done) == len(by_id) or time.monotonic() >= deadline:
            break
        time.sleep(0.2)
    figures = UploadFigures(uploads=len(uploads) + len(refused or []), refused=list(refused or []))
    for pk, status, started_at, finished_at in rows:
        upload = by_id[str(pk)]
        figures.request_s.append(upload.request_s)
        if started_at is None:
            continue
        figures.to_running_s.append(started_at.timestamp() - upload.sent_at)
        if finished_at is not None and status in (
            Submission.Status.SCORED,
            Submission.Status.FAILED,
        ):
            figures.finished += 1
            figures.failed += status == Submission.Status.FAILED
            figures.run_s.append((finished_at - started_at).total_seconds())
    return figures


def read_upload_log(path: Path) -> list[Upload]:
    """Locust's students' log: one ``<id> <sent_at> <request_s>`` line per upload taken."""
    if not path.exists():
        return []
    uploads = []
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) == 3:
            uploads.append(Upload(parts[0], float(parts[1]), float(parts[2])))
    return uploads


def report_uploads(title: str, figures: UploadFigures, out: Callable[[str], None]) -> None:
    out(f"  {title}:")
    for line in figures.lines():
        out(f"    {line}")
