"""What becomes of a delivery after it was read: held, released, superseded, withdrawn.

Only the Parquet in `raw/<source>/` is built from (dbt's sources glob `raw/<source>/*.parquet`).
A delivery that must not be used is moved out of that folder, and its ledger row says why:

- `hold`: the measures, on the raw Parquet with DuckDB: persons per residential group of a
  citizens snapshot (a new one losing more than `Settings.hold_loss_share` of the previous one's
  persons, in the ward or in a group of at least 20, is held), dossiers dated after their extract.
- `settle`: run by the ingest once a run's files are read: holds, releases a held snapshot made
  whole by a later file of the same date, supersedes an earlier delivery of a path delivered again.
- `actions`: `ward release` and `ward withdraw`.
- `lake`: where each status keeps its Parquet (`raw/held/`, `raw/superseded/`, `raw/withdrawn/`),
  the audit trail `audit/deliveries.jsonl`, and the rebuild request `raw/rebuild.json` that makes the
  next run restage and rebuild whole when rows already built must go (assets/dbt.py).
"""
