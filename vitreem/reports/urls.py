from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("", views.report_list, name="list"),
    path("<int:report_id>/download/", views.report_download, name="download"),
    path("templates/", views.template_list, name="templates"),
    path("templates/default.docx", views.template_default, name="template_default"),
]
