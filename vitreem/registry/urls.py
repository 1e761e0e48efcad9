import importlib

from django.urls import URLPattern, URLResolver, include, path

from . import views

app_name = "registry"

urlpatterns: list[URLPattern | URLResolver] = [
    path("children/", views.child_list, name="children"),
    path("children/new/", views.child_create, name="child_create"),
    path("children/<int:child_id>/", views.child_detail, name="child"),
    path("children/<int:child_id>/edit/", views.child_edit, name="child_edit"),
    path("children/<int:child_id>/episodes/new/", views.episode_open, name="episode_open"),
    path("children/<int:child_id>/risk/new/", views.risk_assess, name="risk_assess"),
    path("children/<int:child_id>/move/", views.child_move, name="child_move"),
    path("children/<int:child_id>/end/", views.child_end, name="child_end"),
    path("children/<int:child_id>/guardians/new/", views.guardian_add, name="guardian_add"),
    path("episodes/<int:episode_id>/close/", views.episode_close, name="episode_close"),
    path("guardians/<int:guardian_id>/edit/", views.guardian_edit, name="guardian_edit"),
    path("guardians/<int:guardian_id>/remove/", views.guardian_remove, name="guardian_remove"),
    path("households/", views.household_list, name="households"),
    path("households/new/", views.household_create, name="household_create"),
    path("households/<int:household_id>/", views.household_detail, name="household"),
    path("households/<int:household_id>/poverty/", views.household_poverty, name="household_poverty"),
    path("poverty-reviews/", views.poverty_reviews, name="poverty_reviews"),
]

# Duplicate review (another module of this app); mounted only once it exists.
try:
    importlib.import_module(f"{__package__}.urls_duplicates")
except ModuleNotFoundError as exc:
    if exc.name != f"{__package__}.urls_duplicates":
        raise
else:
    urlpatterns.append(path("duplicates/", include("vitreem.registry.urls_duplicates")))
