from django.urls import path

from . import views

app_name = "imports"
urlpatterns = [
    path("", views.import_list, name="list"),
    path("upload/", views.import_upload, name="upload"),
    path("template.xlsx", views.import_template, name="template"),
    path("export/", views.export, name="export"),
    path("export/<int:export_id>/", views.export_download, name="export_download"),
    path("<int:import_id>/", views.import_detail, name="detail"),
    path("<int:import_id>/preview/", views.import_preview, name="preview"),
    path("<int:import_id>/drop/", views.import_drop, name="drop"),
    path("<int:import_id>/errors.xlsx", views.import_errors, name="errors"),
]
