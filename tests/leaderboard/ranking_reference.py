"""The ranking rules in plain Python, to check the SQL of the leaderboard and the history against.

Per team one entry. Public phase: the team's best public entry. Private phase: the best (on the
private part) of the team's finals, or, with no finals chosen, its best public entry. Hidden and
disqualified entries do not exist for the ranking. Ties go to the earlier submission, then the
smaller id. Baselines are each their own row.
"""

from __future__ import annotations

from leaderboard.models import Submission

RANKED = ("", "flagged")


def column(phase: str, metric: str) -> str:
    return f"{phase}_{metric}_error"


def team_entries(submissions: list[Submission], *, phase: str, metric: str) -> list[Submission]:
    """The row of each team, ranked best first (baselines excluded)."""
    public_key = column("public", metric)
    key = column(phase, metric)
    by_team: dict[int, list[Submission]] = {}
    for s in submissions:
        if s.is_baseline or s.moderation not in RANKED or s.status != "scored":
            continue
        by_team.setdefault(s.team_id, []).append(s)
    rows = []
    for entries in by_team.values():
        best_public = sorted(
            (s for s in entries if getattr(s.score, public_key) is not None),
            key=lambda s: (getattr(s.score, public_key), s.created_at, str(s.pk)),
        )
        if phase == "public":
            candidates = best_public[:1]
        else:
            finals = [s for s in entries if s.is_final]
            candidates = finals or best_public[:1]
        candidates = [s for s in candidates if getattr(s.score, key) is not None]
        if candidates:
            rows.append(
                min(candidates, key=lambda s: (getattr(s.score, key), s.created_at, str(s.pk)))
            )
    rows.sort(key=lambda s: (getattr(s.score, key), s.created_at, str(s.pk)))
    return rows
