from django.urls import path

from . import views

app_name = "benefits"
urlpatterns = [
    path("", views.index, name="index"),
    path("rules/", views.rules, name="rules"),
    path("rules/base-levels/", views.rules_base_add, name="rules_base_add"),
    path("rules/coefficients/", views.rules_coefficient_add, name="rules_coefficient_add"),
    path("eligibility/", views.eligibility, name="eligibility"),
    path("enrol/", views.enrol, name="enrol"),
    path("single-parents/<int:child_id>/", views.single_parent, name="single_parent"),
    path("recipients/", views.recipients, name="recipients"),
    path("recipients/<int:allowance_id>/", views.recipient, name="recipient"),
    path("recipients/<int:allowance_id>/<slug:action>/", views.recipient_action, name="recipient_action"),
    path("decisions/", views.decisions, name="decisions"),
    path("payroll/", views.payroll_index, name="payroll_index"),
    path("payroll/<str:month>/", views.payroll, name="payroll"),
    path("payroll/<str:month>/xlsx/", views.payroll_export, name="payroll_xlsx"),
    path("payroll/<str:month>/lock/", views.payroll_lock, name="payroll_lock"),
    path("budget/", views.budget, name="budget"),
]
