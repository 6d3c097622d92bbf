"""People of an edition: its hosts and teaching assistants (``roles``), the roster of students a
host uploads (``roster``), and the mail to addresses that may have no account yet (``mail``)."""

from .claims import ClaimOffer, ClaimRefused, claim_accept, claim_path, claim_read
from .mail import people_mail_enqueue, people_mail_send, people_message
from .roles import role_add, role_invite_again, role_remove, role_set, roles_for_new_edition
from .roster import (
    RosterImport,
    RosterRefused,
    RosterRow,
    roster_import,
    roster_invite,
    roster_parse,
    roster_remove,
    roster_teams_make,
)

__all__ = [
    "ClaimOffer",
    "ClaimRefused",
    "RosterImport",
    "RosterRefused",
    "RosterRow",
    "claim_accept",
    "claim_path",
    "claim_read",
    "people_mail_enqueue",
    "people_mail_send",
    "people_message",
    "role_add",
    "role_invite_again",
    "role_remove",
    "role_set",
    "roles_for_new_edition",
    "roster_import",
    "roster_invite",
    "roster_parse",
    "roster_remove",
    "roster_teams_make",
]
