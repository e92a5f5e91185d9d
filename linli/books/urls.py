"""Staff pages of the books, under /books/ (docs/books.md, "Pages")."""

from django.urls import path

from . import views

app_name = "books"

V = "<str:code>/vouchers/<int:year>/<int:number>/"

urlpatterns = [
    path("", views.home, name="home"),
    path("<str:code>/", views.accounts, name="accounts"),
    path("<str:code>/accounts", views.account_action, name="account_action"),
    path("<str:code>/journal/", views.journal, name="journal"),
    path("<str:code>/vouchers/", views.voucher_list, name="vouchers"),
    path("<str:code>/vouchers/new/", views.voucher_new, name="voucher_new"),
    path(V, views.voucher_detail, name="voucher"),
    path(V + "edit/", views.voucher_edit, name="voucher_edit"),
    path(V + "move", views.voucher_move, name="voucher_move"),
    path(V + "reverse", views.voucher_reverse, name="voucher_reverse"),
    path(V + "receipts", views.receipt_upload, name="receipt_upload"),
    path(V + "receipts/<str:pk>", views.receipt_download, name="receipt"),
    path("<str:code>/statement/", views.statement, name="statement"),
    path("<str:code>/statement/close", views.month_action, name="month_action"),
    path("<str:code>/budget/", views.budget, name="budget"),
    path("<str:code>/budget/save", views.budget_save, name="budget_save"),
    path("<str:code>/export/ledger.xlsx", views.export_ledger, name="export_ledger"),
    path("<str:code>/export/statement.xlsx", views.export_statement, name="export_statement"),
]
