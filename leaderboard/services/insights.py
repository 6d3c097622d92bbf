"""Store "What the network sees" beside a score, once the score itself is safely recorded."""

from __future__ import annotations

import uuid

from django.db import transaction

from leaderboard.models import Score

RECORD_KEY = "insights"


def score_insights_record(*, submission_id: uuid.UUID | str, insights: dict) -> bool:
    """Put ``insights`` into the score's record under "insights"; False if there is no score.

    A separate step from recording the score, so a slow or failed insights run never delays or
    touches the score; the row lock keeps a concurrent writer of the record from being lost.
    """
    with transaction.atomic():
        score = Score.objects.select_for_update().filter(submission_id=submission_id).first()
        if score is None:
            return False
        score.record = {**score.record, RECORD_KEY: insights}
        score.save(update_fields=["record"])
    return True
