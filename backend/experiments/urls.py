from django.urls import path

from backend.experiments import views

urlpatterns = [
    path("", views.report_page, name="study-report"),
    path("estudio.csv", views.report_csv, name="study-report-csv"),
    path("ejecuciones/<int:run_id>/", views.run_page, name="study-run"),
]
