"""PostgreSQL protects the chain head like the events: it is never deleted, and it only
moves forward one event at a time, to an event that exists with that hash. (Rolling the
head back to hide deleted events is refused.) Checkpoints are append-only like events."""
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
    IF NEW.workspace_id <> OLD.workspace_id OR NEW.last_sequence <> OLD.last_sequence + 1
       OR NOT EXISTS (SELECT 1 FROM audit_auditevent e WHERE e.workspace_id = NEW.workspace_id
                      AND e.sequence = NEW.last_sequence AND e.hash = NEW.last_hash AND e.previous_hash = OLD.last_hash) THEN
        RAISE EXCEPTION 'an audit chain head only moves forward to its next event' USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_chain_head_guard
    BEFORE INSERT OR UPDATE OR DELETE ON audit_auditchainhead
    FOR EACH ROW EXECUTE FUNCTION pressroom_audit_chain_head_guard();
CREATE TRIGGER audit_checkpoint_append_only
    BEFORE UPDATE OR DELETE ON audit_auditcheckpoint
    FOR EACH ROW EXECUTE FUNCTION pressroom_audit_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS audit_checkpoint_append_only ON audit_auditcheckpoint;
DROP TRIGGER IF EXISTS audit_chain_head_guard ON audit_auditchainhead;
DROP FUNCTION IF EXISTS pressroom_audit_chain_head_guard();
"""


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_checkpoint")]
    operations = [migrations.RunPython(on_postgresql(CREATE), on_postgresql(DROP))]
