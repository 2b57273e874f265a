"""A bulk write (a campaign's thousands of job.created events) appends many events under
one lock of the chain head and then moves the head once. The guard still refuses every
move that is not forward onto an unbroken run of existing events: the first new event
links to the old head, the last one is the new head, and every sequence number between
them exists (events are append-only, so they cannot be swapped afterwards)."""
from django.db import migrations

from pressroom.core.migration_sql import on_postgresql

CREATE = """
CREATE OR REPLACE FUNCTION pressroom_audit_chain_head_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'audit chain heads are never deleted' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_OP = 'INSERT' THEN
        IF NEW.last_sequence <> 0 OR NEW.last_hash <> '' THEN
            RAISE EXCEPTION 'an audit chain head starts empty' USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;
    END IF;
    IF NEW.workspace_id <> OLD.workspace_id OR NEW.last_sequence <= OLD.last_sequence
       OR NOT EXISTS (SELECT 1 FROM audit_auditevent e WHERE e.workspace_id = NEW.workspace_id
                      AND e.sequence = OLD.last_sequence + 1 AND e.previous_hash = OLD.last_hash)
       OR NOT EXISTS (SELECT 1 FROM audit_auditevent e WHERE e.workspace_id = NEW.workspace_id
                      AND e.sequence = NEW.last_sequence AND e.hash = NEW.last_hash)
       OR (SELECT count(*) FROM audit_auditevent e WHERE e.workspace_id = NEW.workspace_id
           AND e.sequence > OLD.last_sequence AND e.sequence <= NEW.last_sequence)
          <> NEW.last_sequence - OLD.last_sequence THEN
        RAISE EXCEPTION 'an audit chain head only moves forward onto its next events' USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""
# Back to the one-event-at-a-time guard of 0004.
DROP = """
CREATE OR REPLACE FUNCTION pressroom_audit_chain_head_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'audit chain heads are never deleted' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_OP = 'INSERT' THEN
        IF NEW.last_sequence <> 0 OR NEW.last_hash <> '' THEN
            RAISE EXCEPTION 'an audit chain head starts empty' USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;
    END IF;
    IF NEW.workspace_id <> OLD.workspace_id OR NEW.last_sequence <> OLD.last_sequence + 1
       OR NOT EXISTS (SELECT 1 FROM audit_auditevent e WHERE e.workspace_id = NEW.workspace_id
                      AND e.sequence = NEW.last_sequence AND e.hash = NEW.last_hash AND e.previous_hash = OLD.last_hash) THEN
        RAISE EXCEPTION 'an audit chain head only moves forward to its next event' USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""


class Migration(migrations.Migration):
    dependencies = [("audit", "0004_chain_head_guard")]
    operations = [migrations.RunPython(on_postgresql(CREATE), on_postgresql(DROP))]
