"""Shared by the audit tests: write events, and change rows behind the triggers' back as a
database superuser could."""
from django.db import connection, transaction

from pressroom.audit.services import SYSTEM, audit_record


def record(workspace, n: int, actor=SYSTEM) -> None:
    for i in range(n):
        with transaction.atomic():
            audit_record(workspace_id=workspace.pk, action="job.created", object_type="job", object_id=f"j{i}", actor=actor, data={"i": i})


def tamper(sql: str, params=()) -> None:
    """Run SQL with every trigger off for the session (session_replication_role = replica)."""
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        try:
            cursor.execute(sql, params)
        finally:
            cursor.execute("SET session_replication_role = DEFAULT")
