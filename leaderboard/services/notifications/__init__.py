"""Notifications: an event becomes one row per recipient (the in-site list), and a Celery task
mails each row unless its user turned that kind off. Nothing here sends mail in a request.

- ``enqueue``: the hooks (a submission reaching a final state, an invitation, an announcement)
  only put a task on the queue; a broker outage is logged, never raised.
- ``events``: who gets what for each event, built once per event (a key per row).
- ``editions``: the periodic opening and closing-soon notices, each edition's once.
- ``mail``: renders and sends one row's mail, with its unsubscribe link and headers.
- ``preferences``: each user's choice per kind, the signed unsubscribe tokens, read marks.
- ``resend``: the sweep's second chance for mail whose task never reached the queue.
"""

from .announcements import announcement_create
from .editions import edition_notices_create
from .enqueue import mail_enqueue, notifies_final, notify_enqueue
from .events import EVENTS, notifications_create
from .mail import notification_mail_failed, notification_mail_send, notification_message
from .preferences import (
    UnsubscribeRefused,
    notifications_mark_read,
    preference_set,
    preferences_save,
    unsubscribe_apply,
    unsubscribe_read,
    unsubscribe_token,
)
from .resend import mail_resend_pending

__all__ = [
    "EVENTS",
    "UnsubscribeRefused",
    "announcement_create",
    "edition_notices_create",
    "mail_enqueue",
    "mail_resend_pending",
    "notification_mail_failed",
    "notification_mail_send",
    "notification_message",
    "notifications_create",
    "notifications_mark_read",
    "notifies_final",
    "notify_enqueue",
    "preference_set",
    "preferences_save",
    "unsubscribe_apply",
    "unsubscribe_read",
    "unsubscribe_token",
]
