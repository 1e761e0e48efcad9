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
    path("settings/", views.settings_index, name="settings"),
    path("settings/indicators/new/", views.settings_indicator, name="settings_indicator_new"),
    path("settings/indicators/<slug:code>/", views.settings_indicator, name="settings_indicator"),
    path("settings/forms/new/", views.settings_form, name="settings_form_new"),
    path("settings/forms/<slug:form_code>/", views.settings_form, name="settings_form"),
    path("settings/forms/<slug:form_code>/elements/<int:element_id>/", views.settings_element,
         name="settings_element"),
    path("settings/forms/<slug:form_code>/rules/<int:rule_id>/", views.settings_rule, name="settings_rule"),
]
