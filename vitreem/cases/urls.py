from django.urls import path

from . import views

app_name = "cases"
urlpatterns = [
    path("", views.case_list_view, name="list"),
    path("overdue/", views.overdue_view, name="overdue"),
    path("new/", views.intake_view, name="intake"),
    path("children/", views.child_search, name="child_search"),
    path("stats/", views.stats_view, name="stats"),
    path("<int:case_id>/", views.detail_view, name="detail"),
    path("<int:case_id>/edit/", views.edit_view, name="edit"),
    path("<int:case_id>/reassign/", views.reassign_view, name="reassign"),
    path("<int:case_id>/do/<slug:action>/", views.action_view, name="action"),
    path("<int:case_id>/attachments/", views.attachment_upload, name="attachment_upload"),
    path("<int:case_id>/attachments/<int:attachment_id>/", views.attachment_download, name="attachment"),
    path("<int:case_id>/documents/<str:form>.<str:fmt>", views.document_view, name="document"),
]
