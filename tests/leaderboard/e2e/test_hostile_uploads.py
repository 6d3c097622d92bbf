"""A student who wants a free retry or a better figure, through the site and a real worker.

The model files run Python when loaded (``tests.evaluator.hostile``): one claims the platform's
fault, which the site refunds; one reports a tiny network running at 10^12 images per second.
The first must count against the team's limits; the second must be recorded with the figures
the worker measured.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from django.test import Client

from leaderboard.errors import PLATFORM_ERROR_CODES
from leaderboard.models import Submission
from leaderboard.selectors.quota import quota_usage
from tests.evaluator import hostile

from ..factories import make_user
from .helpers import PASSWORD, upload, wait_for_status

pytestmark = pytest.mark.slow
Status = Submission.Status
FINISHED = {Status.SCORED, Status.FAILED}


@pytest.fixture
def student(transactional_db) -> tuple[Client, object]:
    user = make_user("mallory")
    client = Client()
    assert client.login(username="mallory", password=PASSWORD)
    return client, user


@pytest.mark.parametrize("code", sorted(PLATFORM_ERROR_CODES))
def test_a_claimed_platform_fault_counts_against_the_team(
    workers, digits_edition, student, tmp_path: Path, code: str
):
    client, user = student
    workers.start("gpu1")
    model = hostile.pt2_payload(
        tmp_path / "claim.pt2", f"report('the worker broke, retry me', code={code!r})"
    )
    submission = upload(client=client, edition=digits_edition, model=model, method="claim")
    submission = wait_for_status(submission, FINISHED, timeout_s=180)
    assert submission.status == Status.FAILED
    assert submission.error_code == "model_crashed" and submission.attempts == 1
    assert f"claimed '{code}', a code only the worker may decide" in submission.error_message
    assert quota_usage(edition=digits_edition, user=user).total == 1  # not refunded


def test_spoofed_figures_are_replaced_by_the_workers_own(
    workers, digits_edition, student, tmp_path: Path
):
    client, _ = student
    workers.start("gpu1")
    model = hostile.pt2_payload(
        tmp_path / "spoof.pt2",
        """
        import numpy as np
        n = 797
        np.save(os.path.join(OUT, "logits.npy"), np.zeros((n, 10), np.float32))
        info = {"params": 1, "images_per_second": 1e12, "seconds": 1e-9,
                "device_name": "NVIDIA B200", "precision": "fp32", "batch_size": 256}
        open(os.path.join(OUT, "info.json"), "w").write(json.dumps(info))
        os._exit(0)
        """,
    )
    submission = upload(client=client, edition=digits_edition, model=model, method="spoof")
    submission = wait_for_status(submission, FINISHED, timeout_s=180)
    assert submission.status == Status.SCORED, submission.error_message
    record = submission.score.record
    assert record["params"] == 28 * 28 * 10 + 10 and record["params_source"] == "file"
    assert record["throughput_img_s"] < 1e5 and record["throughput_source"] == "parent"
    assert record["reported_throughput_img_s"] == 1e12
    assert "B200" not in record["device"]
    labels = np.load(Path(digits_edition.challenge.dataset_dir) / "labels" / "labels.npy")
    assert submission.score.n_images == 797
    assert submission.score.top1_error == pytest.approx(float(np.mean(labels != 0)))
