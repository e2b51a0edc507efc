from psycopg import sql

PREFIX = "app_"


def dequeue(conn, worker):
    """The claim path: the one place a job becomes active."""
    query = sql.SQL(
        "UPDATE {jobs} SET state = 'active', locked_by = %s"
        " WHERE id = (SELECT id FROM {jobs} WHERE state = 'queued' LIMIT 1"
        " FOR UPDATE SKIP LOCKED) RETURNING id"
    ).format(jobs=sql.Identifier(f"{PREFIX}jobs"))
    return conn.execute(query, (worker,)).fetchone()


def set_state(conn, job_id, state):
    conn.execute(f"UPDATE {PREFIX}jobs SET state = %s WHERE id = %s", (state, job_id))


def retry(conn, job_id):
    set_state(conn, job_id, "active")


def cancel(conn, job_id):
    set_state(conn, job_id, "cancelled")


def patch_job(conn, job_id, body):
    set_state(conn, job_id, body["state"])


def migrate(conn, table, old):
    conn.execute(f"INSERT INTO {table} (id, state, payload) SELECT id, state, payload FROM {old}")
