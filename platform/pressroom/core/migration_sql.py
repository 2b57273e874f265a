"""For migrations that install PostgreSQL triggers: SQLite (the embedded default) has none."""


def on_postgresql(sql: str):
    """A RunPython function that executes `sql` on PostgreSQL and does nothing elsewhere."""

    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run
