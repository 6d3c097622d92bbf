"""seed_baselines enters a new baseline on the challenge's other open editions too (a class
made while the networks trained), queued like the original; running it again adds nothing."""

from __future__ import annotations

import os
from pathlib import Path

from leaderboard.models import Submission
from tests.leaderboard.factories import make_edition

from .test_seed_baselines import _seed


def test_a_class_made_while_the_baselines_trained_gets_them_too(
    digits_challenge, enqueued: list[str], tmp_path: Path, django_capture_on_commit_callbacks
) -> None:
    spring = make_edition(challenge=digits_challenge, year=2026)
    closed = make_edition(challenge=digits_challenge, year=2020, open_now=False)

    with django_capture_on_commit_callbacks(execute=True):
        output = _seed(tmp_path, "--edition=2025")

    sources = Submission.objects.filter(edition__year=2025, is_baseline=True)
    copies = Submission.objects.filter(edition=spring, is_baseline=True)
    assert sorted((s.method_name, s.original_name) for s in copies) == sorted(
        (s.method_name, s.original_name) for s in sources
    )
    assert len(copies) == 2
    # Their originals are not scored yet: the copies are queued (sent to the broker) as well.
    assert all(c.status == Submission.Status.QUEUED and c.enqueued_at for c in copies)
    by_name = {s.original_name: s for s in sources}
    for copy in copies:
        source = by_name[copy.original_name]
        assert os.stat(copy.file.path).st_ino == os.stat(source.file.path).st_ino
    assert output.count(f"queued on {spring.display_name}") == 2
    assert not Submission.objects.filter(edition=closed).exists()  # a closed board stays as it was

    with django_capture_on_commit_callbacks(execute=True):
        again = _seed(tmp_path, "--edition=2025")
    assert Submission.objects.filter(edition=spring, is_baseline=True).count() == 2
    assert f"on {spring.display_name}" not in again
