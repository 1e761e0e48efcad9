from django.urls import path

from . import views

app_name = "privacy"

urlpatterns = [
    path("", views.index, name="index"),
    path("purposes/", views.purposes, name="purposes"),
    path("requests/new/", views.request_new, name="request_new"),
    path("requests/<int:request_id>/", views.request_detail, name="request"),
    path("children/<int:child_id>/file.pdf", views.subject_file, name="subject_file"),
    path("consents/", views.consents, name="consents"),
    path("consents/new/", views.consent_new, name="consent_new"),
    path("consents/<int:consent_id>/withdraw/", views.consent_withdraw, name="consent_withdraw"),
    path("exports/", views.exports, name="exports"),
    path("retention/", views.retention, name="retention"),
    path("anonymised/", views.anonymised, name="anonymised"),
]
