"""PostgreSQL keeps the artifact state machine and the publish rule, whatever code or SQL
runs (the ORM's save(), update(), bulk_update(), or a psql session):

- an artifact is inserted only as `screening`, with no decision, review or publication;
- its content (workspace, job, kind, variant, revision, text, file, data) never changes;
- `safety_decision` is set once, by screening, to the decision its new status says, which
  must be the most severe of the artifact's stored verdicts, and never changes after (a
  re-screen is a new revision: a new row);
- status moves only along: screening -> passed | flagged | blocked; passed -> approved |
  rejected; flagged -> approved | rejected; approved -> published | rejected;
- approval needs a reviewer who may review in that workspace (a member with the reviewer or
  admin role, a superuser, or a live API key of the workspace with content:review), except
  a passed artifact in a workspace whose safety policy approves automatically; a flagged
  one always needs a reviewer;
- review and provenance columns change only with a transition;
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

CREATE OR REPLACE FUNCTION pressroom_worst_verdict(artifact uuid) RETURNS text AS $$
    SELECT CASE max(CASE v.decision WHEN 'block' THEN 3 WHEN 'flag' THEN 2 WHEN 'pass' THEN 1 END)
           WHEN 3 THEN 'block' WHEN 2 THEN 'flag' WHEN 1 THEN 'pass' END
    FROM safety_safetyverdict v WHERE v.artifact_id = artifact;
$$ LANGUAGE sql STABLE;

CREATE OR REPLACE FUNCTION pressroom_may_review(artifact jobs_artifact) RETURNS boolean AS $$
    SELECT (artifact.reviewed_by_id IS NOT NULL AND (
               EXISTS (SELECT 1 FROM auth_user u WHERE u.id = artifact.reviewed_by_id AND u.is_active AND u.is_superuser)
            OR EXISTS (SELECT 1 FROM accounts_membership m WHERE m.user_id = artifact.reviewed_by_id
                       AND m.workspace_id = artifact.workspace_id AND m.role IN ('reviewer', 'admin'))))
        OR (artifact.reviewed_by_api_key_id IS NOT NULL AND EXISTS (
               SELECT 1 FROM accounts_apikey k WHERE k.id = artifact.reviewed_by_api_key_id
               AND k.workspace_id = artifact.workspace_id AND k.revoked_at IS NULL
               AND (k.expires_at IS NULL OR k.expires_at > now()) AND k.scopes ? 'content:review'));
$$ LANGUAGE sql STABLE;

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

    IF (NEW.workspace_id, NEW.job_id, NEW.kind, NEW.variant_index, NEW.revision, NEW.text, NEW.file, NEW.data,
        NEW.revision_of_id, NEW.model_alias, NEW.model_source, NEW.model_revision, NEW.model_placeholder,
        NEW.generation_params, NEW.seed)
       IS DISTINCT FROM
       (OLD.workspace_id, OLD.job_id, OLD.kind, OLD.variant_index, OLD.revision, OLD.text, OLD.file, OLD.data,
        OLD.revision_of_id, OLD.model_alias, OLD.model_source, OLD.model_revision, OLD.model_placeholder,
        OLD.generation_params, OLD.seed) THEN
        PERFORM pressroom_refuse(format('artifact %s: content and provenance never change (an edit is a new revision)', OLD.id));
    END IF;

    IF NEW.safety_decision IS DISTINCT FROM OLD.safety_decision AND (OLD.safety_decision <> '' OR NEW.status = OLD.status) THEN
        PERFORM pressroom_refuse(format('artifact %s: the safety decision is set once, by screening', OLD.id));
    END IF;

    IF NEW.status = OLD.status THEN
        IF (NEW.published_at, NEW.reviewed_by_id, NEW.reviewed_by_api_key_id, NEW.reviewed_at, NEW.review_comment)
           IS DISTINCT FROM (OLD.published_at, OLD.reviewed_by_id, OLD.reviewed_by_api_key_id, OLD.reviewed_at, OLD.review_comment) THEN
            PERFORM pressroom_refuse(format('artifact %s: review and publication columns change only with a transition', OLD.id));
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
        IF pressroom_worst_verdict(NEW.id) IS DISTINCT FROM NEW.safety_decision THEN
            PERFORM pressroom_refuse(format('artifact %s: decision %s is not what its stored verdicts say (%s)',
                                            OLD.id, NEW.safety_decision, coalesce(pressroom_worst_verdict(NEW.id), 'none')));
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
        ELSIF NOT pressroom_may_review(NEW) THEN
            PERFORM pressroom_refuse(format('artifact %s: the reviewer may not review in this workspace', OLD.id));
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
DROP FUNCTION IF EXISTS pressroom_may_review(jobs_artifact);
DROP FUNCTION IF EXISTS pressroom_worst_verdict(uuid);
DROP FUNCTION IF EXISTS pressroom_refuse(text);
"""


class Migration(migrations.Migration):
    dependencies = [("jobs", "0005_worker_heartbeat"), ("publishing", "0001_initial"), ("safety", "0001_initial"),
                    ("accounts", "0002_apikey"), ("auth", "0012_alter_user_first_name_max_length")]
    operations = [migrations.RunPython(on_postgresql(CREATE), on_postgresql(DROP))]
