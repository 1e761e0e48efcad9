from django.urls import path

from . import views

app_name = "programme"
urlpatterns = [
    path("", views.index, name="index"),
    path("indicators/", views.indicator_list, name="indicators"),
    path("indicators/<slug:code>/", views.indicator_detail, name="indicator"),
    path("targets/", views.target_table, name="targets"),
    path("forms/", views.form_list, name="forms"),
    path("forms/<slug:form_code>/<str:period>/", views.entry, name="entry"),
    path("submissions/", views.inbox, name="inbox"),
    path("submissions/<int:submission_id>/", views.submission_detail, name="submission"),
    path("completeness/", views.completeness_matrix, name="completeness"),
    path("evaluation/", views.evaluation, name="evaluation"),
    path("evaluation/<slug:code>/<int:year>/explanation/", views.explanation, name="explanation"),
    path("member-units/", views.member_unit_list, name="member_units"),
    path("member-units/<slug:code>/", views.member_unit_detail, name="member_unit"),
    path("plans/", views.plan_list, name="plans"),
    path("plans/<int:plan_id>/", views.plan_detail, name="plan"),
    path("tasks/<int:task_id>/", views.task_detail, name="task"),
]
