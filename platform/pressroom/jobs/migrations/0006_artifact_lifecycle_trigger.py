"""PostgreSQL keeps the artifact state machine and the publish rule, whatever code or SQL
runs (the ORM's save(), update(), bulk_update(), or a psql session):

- an artifact is inserted only as `screening`, with no decision, review or publication;
- its content (workspace, job, kind, variant, revision, text, file, data) never changes;
- `safety_decision` is set once, by screening, to the decision its new status says, and
  never changes after (a re-screen is a new revision: a new row);
- status moves only along: screening -> passed | flagged | blocked; passed -> approved |
  rejected; flagged -> approved | rejected; approved -> published | rejected;
- approval needs a reviewer (user or API key), except a passed artifact in a workspace
  whose safety policy approves automatically; a flagged one always needs a reviewer;
- `published` comes only from `approved`, with a publication time, and its feed row must
  exist when the transaction commits (a deferred constraint trigger);
- a feed row is inserted only for a published artifact of the same workspace, and feed
  rows are never changed or deleted.
"""
from django.db import migrations

from pressroom.core.migration_sql import on_postgresql

CREATE = r"""
CREATE OR REPLACE FUNCTION pressroom_refuse(message text) RETURNS void AS $$
BEGIN
    RAISE EXCEPTION 'pressroom: %', message USING ERRCODE = 'check_violation';
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION pressroom_artifact_lifecycle() RETURNS trigger AS $$
DECLARE
    auto_approve boolean;
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.status <> 'screening' OR NEW.safety_decision <> '' OR NEW.published_at IS NOT NULL
           OR NEW.reviewed_by_id IS NOT NULL OR NEW.reviewed_by_api_key_id IS NOT NULL THEN
            PERFORM pressroom_refuse(format('artifact %s must be created in screening, unreviewed', NEW.id));
        END IF;
        RETURN NEW;
    END IF;

    IF (NEW.workspace_id, NEW.job_id, NEW.kind, NEW.variant_index, NEW.revision, NEW.text, NEW.file, NEW.data)
       IS DISTINCT FROM
       (OLD.workspace_id, OLD.job_id, OLD.kind, OLD.variant_index, OLD.revision, OLD.text, OLD.file, OLD.data) THEN
        PERFORM pressroom_refuse(format('artifact %s: content never changes (an edit is a new revision)', OLD.id));
    END IF;

    IF OLD.safety_decision <> '' AND NEW.safety_decision IS DISTINCT FROM OLD.safety_decision THEN
        PERFORM pressroom_refuse(format('artifact %s: safety decision %s is final', OLD.id, OLD.safety_decision));
    END IF;

    IF NEW.status = OLD.status THEN
        IF NEW.published_at IS DISTINCT FROM OLD.published_at THEN
            PERFORM pressroom_refuse(format('artifact %s: publication time changes only when it is published', OLD.id));
        END IF;
        RETURN NEW;
    END IF;

    IF OLD.status = 'screening' THEN
        IF NOT ((NEW.status = 'passed' AND NEW.safety_decision = 'pass')
             OR (NEW.status = 'flagged' AND NEW.safety_decision = 'flag')
             OR (NEW.status = 'blocked' AND NEW.safety_decision = 'block')) THEN
            PERFORM pressroom_refuse(format('artifact %s: screening ends in passed, flagged or blocked with that decision, not %s/%s',
                                            OLD.id, NEW.status, NEW.safety_decision));
        END IF;
    ELSIF NEW.status = 'approved' THEN
        IF OLD.status NOT IN ('passed', 'flagged') THEN
            PERFORM pressroom_refuse(format('artifact %s: cannot approve from %s', OLD.id, OLD.status));
        END IF;
        IF NEW.reviewed_by_id IS NULL AND NEW.reviewed_by_api_key_id IS NULL THEN
            SELECT p.auto_approve INTO auto_approve FROM safety_safetypolicy p WHERE p.workspace_id = NEW.workspace_id;
            IF OLD.status <> 'passed' OR NOT coalesce(auto_approve, false) THEN
                PERFORM pressroom_refuse(format('artifact %s: approval needs a reviewer', OLD.id));
            END IF;
        END IF;
    ELSIF NEW.status = 'rejected' THEN
        IF OLD.status NOT IN ('passed', 'flagged', 'approved') THEN
            PERFORM pressroom_refuse(format('artifact %s: cannot reject from %s', OLD.id, OLD.status));
        END IF;
    ELSIF NEW.status = 'published' THEN
        IF OLD.status <> 'approved' OR NEW.published_at IS NULL THEN
            PERFORM pressroom_refuse(format('artifact %s: only an approved artifact is published (it is %s)', OLD.id, OLD.status));
        END IF;
    ELSE
        PERFORM pressroom_refuse(format('artifact %s: no transition from %s to %s', OLD.id, OLD.status, NEW.status));
    END IF;
    IF NEW.status <> 'published' AND NEW.published_at IS NOT NULL THEN
        PERFORM pressroom_refuse(format('artifact %s: only a published artifact has a publication time', OLD.id));
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER artifact_lifecycle
    BEFORE INSERT OR UPDATE ON jobs_artifact
    FOR EACH ROW EXECUTE FUNCTION pressroom_artifact_lifecycle();

CREATE OR REPLACE FUNCTION pressroom_artifact_published_in_feed() RETURNS trigger AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM publishing_publisheditem f WHERE f.artifact_id = NEW.id) THEN
        PERFORM pressroom_refuse(format('artifact %s was published without its feed row', NEW.id));
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER artifact_published_in_feed
    AFTER UPDATE ON jobs_artifact DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (NEW.status = 'published' AND OLD.status <> 'published')
    EXECUTE FUNCTION pressroom_artifact_published_in_feed();

CREATE OR REPLACE FUNCTION pressroom_feed_item_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM pressroom_refuse('feed rows are append-only');
    END IF;
    IF NOT EXISTS (SELECT 1 FROM jobs_artifact a WHERE a.id = NEW.artifact_id AND a.status = 'published'
                   AND a.workspace_id = NEW.workspace_id) THEN
        PERFORM pressroom_refuse(format('feed row for artifact %s, which is not published in that workspace', NEW.artifact_id));
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER feed_item_guard
    BEFORE INSERT OR UPDATE OR DELETE ON publishing_publisheditem
    FOR EACH ROW EXECUTE FUNCTION pressroom_feed_item_guard();
"""
DROP = """
DROP TRIGGER IF EXISTS feed_item_guard ON publishing_publisheditem;
DROP FUNCTION IF EXISTS pressroom_feed_item_guard();
DROP TRIGGER IF EXISTS artifact_published_in_feed ON jobs_artifact;
DROP FUNCTION IF EXISTS pressroom_artifact_published_in_feed();
DROP TRIGGER IF EXISTS artifact_lifecycle ON jobs_artifact;
DROP FUNCTION IF EXISTS pressroom_artifact_lifecycle();
DROP FUNCTION IF EXISTS pressroom_refuse(text);
"""


class Migration(migrations.Migration):
    dependencies = [("jobs", "0005_worker_heartbeat"), ("publishing", "0001_initial"), ("safety", "0001_initial")]
    operations = [migrations.RunPython(on_postgresql(CREATE), on_postgresql(DROP))]
