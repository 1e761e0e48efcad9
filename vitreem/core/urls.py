from django.urls import path

from . import views

app_name = "core"
urlpatterns = [
    path("", views.home, name="home"),
    path("audit/", views.audit_list, name="audit"),
    path("tasks/<uuid:status_id>/", views.task_status, name="task_status"),
]
