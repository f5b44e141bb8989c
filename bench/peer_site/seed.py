"""Prepare the peer's database: an administrator with an API token, one queue and `--tickets`
open tickets; print what the load needs as one JSON line. Runs in the peer's venv:

    PYTHONPATH=. DJANGO_SETTINGS_MODULE=bench.peer_site.settings python -m bench.peer_site.seed
"""

from __future__ import annotations

import argparse
import json

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402 - after setup
from helpdesk.models import Queue, Ticket  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=10_000)
    args = parser.parse_args()
    users = get_user_model()
    admin = users.objects.filter(username="admin").first()
    if admin is None:
        admin = users.objects.create_superuser("admin", "admin@example.com", "bench-only")
    token, _ = Token.objects.get_or_create(user=admin)
    queue, _ = Queue.objects.get_or_create(
        slug="repair", defaults={"title": "报修", "email_address": "repair@example.com"}
    )
    missing = args.tickets - Ticket.objects.count()
    if missing > 0:
        Ticket.objects.bulk_create(
            [
                Ticket(
                    title=f"空调不制冷，显示E4故障码 {i}",
                    queue=queue,
                    submitter_email=f"customer{i % 1000}@example.com",
                    description="客户来电：开机十分钟后停机，室外机不转。",
                    priority=3,
                )
                for i in range(missing)
            ],
            batch_size=1000,
        )
    ids = list(
        Ticket.objects.filter(status=Ticket.OPEN_STATUS)
        .order_by("-id")
        .values_list("id", flat=True)[:2000]
    )
    print(json.dumps({"token": token.key, "queue": queue.id, "ticket_ids": ids}))


if __name__ == "__main__":
    main()
