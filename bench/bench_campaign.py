"""A catalog campaign through the REST API (gunicorn, PostgreSQL, Redis): a CSV upload of
N product rows for marketing.product_description, validated, screened and accepted (its
jobs, verdicts, audit events and outbox rows written). Also times the refusal of the same
upload with one bad row, and checks that the refusal wrote nothing. Prints JSON, then a
one-line summary.

    python bench/bench_campaign.py --rows 10000
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import time

from _setup import flush_broker, setup_django
from bench_api import free_port, start_gunicorn

MATERIALS = ("recycled wool", "organic cotton", "merino", "linen", "waxed canvas", "bamboo fibre")
COLOURS = ("forest green", "charcoal", "sand", "navy", "rust", "oat")


def catalog_csv(rows: int, bad_row: int | None = None) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["name", "attributes", "length", "variants"])
    for n in range(1, rows + 1):
        name = "" if n == bad_row else f"Trail jacket {n}"
        attributes = f"material: {MATERIALS[n % 6]}; colour: {COLOURS[n % 5]}; size range: XS-XXL"
        writer.writerow([name, attributes, "short", 2])
    return buffer.getvalue().encode()


def post(url: str, token: str, body: bytes) -> tuple[float, int, dict]:
    import httpx

    started = time.perf_counter()
    response = httpx.post(f"{url}/api/v1/campaigns/", headers={"Authorization": f"Bearer {token}"}, timeout=300,
                          data={"use_case": "marketing.product_description", "name": "Catalog"},
                          files={"file": ("catalog.csv", body, "text/csv")})
    return time.perf_counter() - started, response.status_code, response.json()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    args = parser.parse_args()
    import logging

    logging.getLogger("httpx").setLevel(logging.WARNING)
    setup_django()
    flush_broker()
    from pressroom.accounts.access import Access
    from pressroom.accounts.models import Scope, Workspace
    from pressroom.accounts.services import api_key_create
    from pressroom.jobs.models import Job

    workspace, _ = Workspace.objects.get_or_create(slug="bench-campaign", defaults={"name": "Campaign benchmark"})
    _, token = api_key_create(access=Access.system(workspace), name="bench", scopes=[Scope.JOBS_WRITE, Scope.CONTENT_READ])
    port = free_port()
    server = start_gunicorn(port, workers=1, threads=2)
    url = f"http://127.0.0.1:{port}"
    try:
        post(url, token, catalog_csv(20))  # warm-up: imports, connections, the screening models
        jobs_before = Job.objects.filter(workspace=workspace).count()
        refuse_seconds, refuse_status, refused = post(url, token, catalog_csv(args.rows, bad_row=args.rows // 2))
        refusal_wrote_nothing = Job.objects.filter(workspace=workspace).count() == jobs_before
        accept_seconds, accept_status, accepted = post(url, token, catalog_csv(args.rows))
    finally:
        server.terminate()
        server.wait(timeout=30)
    created = Job.objects.filter(campaign_id=accepted.get("id")).count() if accept_status == 201 else 0
    result = {
        "benchmark": "campaign_accept",
        "rows": args.rows,
        "upload_bytes": len(catalog_csv(args.rows)),
        "accept_status": accept_status,
        "accept_seconds": round(accept_seconds, 3),
        "jobs_created": created,
        "rows_per_second": round(args.rows / accept_seconds, 1),
        "refuse_status": refuse_status,
        "refuse_seconds": round(refuse_seconds, 3),
        "refused_rows_reported": [(e["row"], e["field"]) for e in refused.get("error", {}).get("rows", [])],
        "refusal_wrote_nothing": refusal_wrote_nothing,
    }
    print(json.dumps(result, indent=2))
    print(f"SUMMARY campaign {args.rows} rows accepted in {result['accept_seconds']} s "
          f"({result['rows_per_second']} rows/s, {created} jobs); one bad row refused in {result['refuse_seconds']} s")


if __name__ == "__main__":
    main()
