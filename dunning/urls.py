from django.urls import include, path

from . import bulk_urls, template_views, views

app_name = "dunning"

urlpatterns = [
    path("", views.preview, name="preview"),
    path("run/", views.run_now, name="run_now"),
    path("runs/", views.run_list, name="run_list"),
    path("runs/<int:pk>/", views.run_detail, name="run_detail"),
    path("policies/", views.policy_list, name="policy_list"),
    path("policies/new/", views.policy_create, name="policy_create"),
    path("policies/<int:pk>/", views.policy_edit, name="policy_edit"),
    path("customers/<int:customer_pk>/settings/", views.customer_settings, name="customer_settings"),
    path("customers/<int:customer_pk>/plan/", views.plan_create, name="plan_create"),
    path("customers/<int:customer_pk>/promise/", views.customer_promise, name="customer_promise"),
    path("customers/<int:customer_pk>/dispute/", views.customer_dispute, name="customer_dispute"),
    path("customers/<int:customer_pk>/call/", views.customer_call, name="customer_call"),
    path("", include(bulk_urls)),  # the customer list's bulk actions (issue 14 item 6)
    path("worklist/", views.worklist, name="worklist"),
    path("worklist/<int:pk>/log/", views.task_log, name="task_log"),
    path("worklist/<int:pk>/take/", views.task_take, name="task_take"),
    path("disputes/", views.dispute_list, name="dispute_list"),
    path("disputes/<int:pk>/resolve/", views.dispute_resolve, name="dispute_resolve"),
    path("invoices/<int:invoice_pk>/dispute/", views.dispute_open, name="dispute_open"),
    path("invoices/<int:invoice_pk>/promise/", views.promise_create, name="promise_create"),
    path("promises/", views.promise_list, name="promise_list"),
    path("plans/", views.plan_list, name="plan_list"),
    path("customers/<int:customer_pk>/timeline/", views.customer_timeline, name="timeline"),
    path("customers/<int:customer_pk>/evidence.zip", views.customer_evidence, name="evidence"),
    # issue 14 item 4: one-off reminders and the organization's own wording of each step
    path("customers/<int:customer_pk>/reminder/", template_views.reminder_send, name="reminder_send"),
    path("templates/", template_views.message_template_list, name="message_template_list"),
    path("templates/<str:template>/<str:language>/", template_views.message_template_edit,
         name="message_template_edit"),
    path("templates/<str:template>/<str:language>/preview/", template_views.message_template_preview,
         name="message_template_preview"),
]
