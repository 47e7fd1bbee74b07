"""wildwatch's SQL store: the audit trail of listings, snapshots, scores, runs and decisions.

`store.db` makes engines, sessions and runs the Alembic migrations shipped in
`store/migrations`; `store.repository` holds the functions that read and write
(they take a Session and never commit); `store.models` is the schema.
"""
