"""URLs of an edition's grades: the host's rule, preview and gradebook CSV files."""

from django.urls import path

from leaderboard.views import grades

EDITION = "c/<slug:slug>/<slug:edition>"

urlpatterns = [
    path(f"{EDITION}/host/grades/", grades.edition_grades, name="edition_grades"),
    path(f"{EDITION}/host/grades.csv", grades.edition_grades_csv, name="edition_grades_csv"),
]
