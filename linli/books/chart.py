"""The default chart of accounts a community's books start with (docs/books.md, "The chart").

Codes follow 民间非营利组织会计制度 where it has the head (1001 现金, 1002 银行存款, 4101
捐赠收入, 4401 政府补助收入 …), simplified to what a community's public money needs. The
community fund 社区保障资金 is restricted net assets (3102) with one sub-account per project;
money received for the fund and not yet given to a project sits in 3102.00. Names are stored
in the installation's language when the chart is installed; administrators may rename heads,
add sub-accounts and switch heads off.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from .models import Account

K = Account.Kind

FUND_CODE = "3102"
FUND_POOL_CODE = "3102.00"
SURPLUS_CODE = "3101"  # where the years' revenue less expense is carried (computed, not booked)

# (code, name, kind, parent code)
DEFAULT_CHART = (
    ("1001", _("Cash on hand"), K.ASSET, None),
    ("1002", _("Bank deposits"), K.ASSET, None),
    ("1121", _("Receivables"), K.ASSET, None),
    ("1122", _("Other receivables"), K.ASSET, None),
    ("2202", _("Payables"), K.LIABILITY, None),
    ("2209", _("Other payables"), K.LIABILITY, None),
    (SURPLUS_CODE, _("Unrestricted net assets"), K.NET_ASSETS, None),
    (FUND_CODE, _("Community fund"), K.FUND, None),
    (FUND_POOL_CODE, _("Not yet given to a project"), K.FUND, FUND_CODE),
    ("4101", _("Donations"), K.REVENUE, None),
    ("4401", _("Government allocations"), K.REVENUE, None),
    ("4501", _("Public revenue from shared parts"), K.REVENUE, None),
    ("4901", _("Other revenue"), K.REVENUE, None),
    ("5101", _("Community activities"), K.EXPENSE, None),
    ("5102", _("Services for elders"), K.EXPENSE, None),
    ("5103", _("Maintenance and repairs"), K.EXPENSE, None),
    ("5201", _("Office expenses"), K.EXPENSE, None),
    ("5901", _("Other expenses"), K.EXPENSE, None),
)
