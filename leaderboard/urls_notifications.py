"""URLs of notifications: the list, e-mail choices, unsubscribe links, hosts' announcements."""

from django.urls import path

from leaderboard.views import notifications

urlpatterns = [
    path("me/notifications/", notifications.notification_list, name="notifications"),
    path(
        "me/notifications/settings/",
        notifications.notification_settings,
        name="notification_settings",
    ),
    path(
        "notifications/unsubscribe/<str:token>/",
        notifications.unsubscribe,
        name="notifications_unsubscribe",
    ),
    path(
        "c/<slug:slug>/<slug:edition>/host/announcements/",
        notifications.announcements,
        name="announcements",
    ),
]
