-- Every change of a task's or subtask's status or operation, and every log line, as one
-- ordered stream per task: what `GET /api/v2/tasks/instances/{id}/events` serves, and what
-- `Last-Event-ID` resumes. Triggers write it, so no code path that changes a status can
-- forget to.
CREATE TABLE task_event (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id      INTEGER NOT NULL REFERENCES task_instance(id) ON DELETE CASCADE,
    subtask_id   INTEGER,
    kind         TEXT NOT NULL,
    status       TEXT,
    operation    TEXT,
    log_id       INTEGER,
    create_time  INTEGER NOT NULL
);
CREATE INDEX task_event_task ON task_event(task_id, id);

CREATE TRIGGER task_event_task_new AFTER INSERT ON task_instance
BEGIN
    INSERT INTO task_event (task_id, kind, status, operation, create_time)
    VALUES (NEW.id, 'TASK', NEW.status, NEW.operation,
            CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

CREATE TRIGGER task_event_task_change AFTER UPDATE OF status, operation ON task_instance
WHEN OLD.status IS NOT NEW.status OR OLD.operation IS NOT NEW.operation
BEGIN
    INSERT INTO task_event (task_id, kind, status, operation, create_time)
    VALUES (NEW.id, 'TASK', NEW.status, NEW.operation,
            CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

CREATE TRIGGER task_event_subtask_new AFTER INSERT ON subtask_instance
BEGIN
    INSERT INTO task_event (task_id, subtask_id, kind, status, operation, create_time)
    VALUES (NEW.task_id, NEW.id, 'SUBTASK', NEW.status, NEW.operation,
            CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

CREATE TRIGGER task_event_subtask_change AFTER UPDATE OF status, operation ON subtask_instance
WHEN OLD.status IS NOT NEW.status OR OLD.operation IS NOT NEW.operation
BEGIN
    INSERT INTO task_event (task_id, subtask_id, kind, status, operation, create_time)
    VALUES (NEW.task_id, NEW.id, 'SUBTASK', NEW.status, NEW.operation,
            CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

CREATE TRIGGER task_event_log AFTER INSERT ON subtask_log
BEGIN
    INSERT INTO task_event (task_id, subtask_id, kind, log_id, create_time)
    SELECT s.task_id, NEW.subtask_id, 'LOG', NEW.id,
           CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)
      FROM subtask_instance s WHERE s.id = NEW.subtask_id;
END;
