#!/usr/bin/env python
"""What one anonymous Open311 list costs with 1,000 published cases in a community.

Makes a fresh SQLite database in a temporary LINLI_DATA_DIR, migrates it, writes one
community with 1,000 cases (their texts made up here, each naming a person, a door and a
phone, so the scrubbing is paid for), all published, then times GET
/open311/v2/requests.json as a stranger sends it: the first (uncached) answer and a
repeated one (from the cache). Prints rows returned, medians of --runs, and bytes.

    .venv/bin/python bench/open311_feed_bench.py [--runs 5] [--cases 1000] [--page-size 200]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--page-size", default="", help="sent as page_size (left out: the server's default)")
    args = parser.parse_args()
    data_dir = tempfile.mkdtemp(prefix="linli-o311-")
    os.environ.update(LINLI_DATA_DIR=data_dir, LINLI_LOG_LEVEL="WARNING", DJANGO_SETTINGS_MODULE="linli.config.settings")
    os.environ.pop("LINLI_DATABASE_URL", None)
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
    from django.core.cache import cache
    from django.core.management import call_command
    from django.test import Client
    from django.utils import timezone

    from linli.cases.models import Case, Category
    from linli.community.models import Community, District, Street, Grid

    call_command("migrate", verbosity=0)
    district = District.objects.create(code="510199", name="测试区")
    street = Street.objects.create(district=district, code="510199001", name="测试街道")
    community = Community.objects.create(street=street, code="B", name="测试社区")
    grid = Grid.objects.create(community=community, code="G01", name="一号院", latitude=30.7, longitude=104.05)
    category = Category.objects.create(community=community, code="noise", name_zh="噪音", name_en="Noise")
    now = timezone.now()
    fields = {f.name for f in Case._meta.fields}
    rows = []
    for i in range(args.cases):
        case = Case(community=community, number=f"B-20260101-{i:04d}", channel="phone", status="submitted",
                    description=f"我是王小{i % 10}，住{i % 30 + 1}栋2单元{i % 9 + 1}01室，电话1391234{i:04d}，楼下夜里很吵",
                    category=category, place="grid", grid=grid, contact_name=f"王小{i % 10}",
                    contact_phone=f"1391234{i:04d}", created_at=now - timezone.timedelta(minutes=i))
        if "public" in fields:
            case.public = True
        rows.append(case)
    Case.objects.bulk_create(rows, batch_size=500)
    client = Client()
    query = {"page_size": args.page_size} if args.page_size else {}
    cold, warm = [], []
    for _ in range(args.runs):
        cache.clear()
        started = time.perf_counter()
        response = client.get("/open311/v2/requests.json", query)
        cold.append(time.perf_counter() - started)
        started = time.perf_counter()
        again = client.get("/open311/v2/requests.json", query)
        warm.append(time.perf_counter() - started)
        assert response.status_code == again.status_code == 200, response.content[:300]
    print(f"cases in the community: {args.cases}; rows in one answer: {len(response.json())}; "
          f"bytes: {len(response.content)}")
    print(f"first answer (uncached): median {statistics.median(cold) * 1000:.1f} ms of {args.runs}")
    print(f"repeated answer:         median {statistics.median(warm) * 1000:.1f} ms of {args.runs}")
    shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
