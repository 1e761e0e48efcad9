from django.urls import path

from . import views

app_name = "activities"
urlpatterns = [
    path("", views.index, name="index"),
    path("list/", views.activity_list, name="list"),
    path("calendar/", views.activity_calendar, name="calendar"),
    path("new/<str:kind>/", views.activity_create, name="create"),
    path("<int:pk>/", views.activity_detail, name="detail"),
    path("<int:pk>/edit/", views.activity_edit, name="edit"),
    path("<int:pk>/status/", views.activity_status, name="status"),
    path("<int:pk>/participants/", views.participant_add, name="participant_add"),
    path("<int:pk>/participants/<int:participant_id>/remove/", views.participant_remove, name="participant_remove"),
    path("<int:pk>/participants/upload/", views.participants_upload, name="participants_upload"),
    path("<int:pk>/children/", views.child_link, name="child_link"),
    path("<int:pk>/attachments/", views.attachment_add, name="attachment_add"),
    path("participants-template.xlsx", views.participants_template, name="participants_template"),
    path("play-points/", views.play_points, name="play_points"),
    path("partners/", views.partners, name="partners"),
    path("budget/", views.budget, name="budget"),
    path("partners/<int:partner_id>/edit/", views.partner_edit, name="partner_edit"),
    path("projects/<int:project_id>/edit/", views.project_edit, name="project_edit"),
    path("budget/lines/", views.budget_lines, name="budget_lines"),
    path("budget/lines/<int:allocation_id>/edit/", views.allocation_edit, name="allocation_edit"),
    path("budget/spendings/<int:spending_id>/edit/", views.spending_edit, name="spending_edit"),
]
