"""`generate_ward`: the clean ward, its landing files with every form and kind of dirt, and the truth."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from ward.generate.dossiers import build_dossiers, extract_dates
from ward.generate.extracts import write_bad_files, write_citizens, write_households, write_service_records
from ward.generate.landing import LINEAGE_KEYS, Landing
from ward.generate.population import build_ward, citizens_snapshot, households_snapshot
from ward.generate.truth import (
    namesakes,
    population_by_group,
    population_change,
    residence_events,
    service_kpis,
)
from ward.generate.world import plant_world
from ward.generate.writers import set_mtime
from ward.settings import SOURCES

# dirt kind -> citizens_clean.citizen_id_delivered (else "valid")
ID_DELIVERED = {"id_lost_zeros": "lost_zeros", "id_scientific": "scientific", "id_missing": "missing"}


@dataclass(frozen=True)
class GenerateSummary:
    landing_dir: Path
    truth_dir: Path
    snapshot_dates: tuple[date, ...]
    people: int  # persons listed in citizens snapshot 1
    residents: int  # residents on the latest snapshot date
    households: int  # households of the latest snapshot
    dossiers: int
    dossier_versions: int
    files: int
    rows_written: int
    rows_quarantined: int

    def __str__(self) -> str:
        return (
            f"{self.people:,} people ({self.residents:,} residents on {self.snapshot_dates[-1]}), "
            f"{self.households:,} households, {self.dossiers:,} dossiers "
            f"in {self.dossier_versions:,} versions; {self.files} files, {self.rows_written:,} rows "
            f"of which {self.rows_quarantined:,} to quarantine; "
            f"truth in {self.truth_dir}"
        )


def generate_ward(
    out_dir: Path,
    people: int = 60_000,
    groups: int = 40,
    seed: int = 11446,
    start: date = date(2026, 10, 1),
) -> GenerateSummary:
    """Write `out_dir/landing/{citizens,households,service_records}/` and `out_dir/truth/`.

    Same arguments, same bytes. Refuses to write into a landing folder that already holds files.

    truth/: {citizens,households,service_records}_clean.parquet (the clean rows with their lineage),
    files.csv, dirt.csv (ward/generate/dirt.py), duplicate_rows.csv (citizens rows keyed again: the
    same person a second time in one file), twins.csv and namesakes.csv (pairs of different persons
    that look alike), mart_population_by_group.csv, mart_service_kpis.csv, residence_events.csv,
    mart_population_change.csv (ward/generate/truth.py)."""
    out_dir = Path(out_dir)
    landing_dir, truth_dir = out_dir / "landing", out_dir / "truth"
    if landing_dir.exists() and any(p.is_file() for p in landing_dir.rglob("*")):
        raise FileExistsError(f"{landing_dir} already holds files: generate into an empty data root")
    for source in SOURCES:
        (landing_dir / source).mkdir(parents=True, exist_ok=True)
    truth_dir.mkdir(parents=True, exist_ok=True)

    ward = build_ward(people, groups, seed, start)
    snapshot_dates = ward.snapshot_dates
    citizens = plant_world(ward, [citizens_snapshot(ward, k) for k in (1, 2)], seed)
    households = [households_snapshot(ward, k, citizens[k - 1], seed) for k in (1, 2)]
    versions = build_dossiers(ward, people, seed)
    weeks = extract_dates(snapshot_dates[1])
    landing = Landing(landing_dir, seed, ward.persons["citizen_id"])
    groups_used = ward.groups
    twins = pl.DataFrame(ward.twins, schema=["person_seq_a", "person_seq_b"], orient="row")
    del ward  # the snapshots hold all that is needed from here on

    citizen_files = write_citizens(landing, citizens, groups_used, seed)
    write_households(landing, households, seed)
    write_service_records(landing, versions, weeks, seed)
    write_bad_files(landing, households[1], versions, weeks, citizen_files)

    files = landing.files_frame()
    loaded = files.filter(pl.col("status") == "loaded")
    latest_extract = loaded.filter(pl.col("source") == "service_records")["extract_date"].max()
    citizens_all = pl.concat(citizens)
    households_all = pl.concat(households)
    del citizens, households

    # Truth marts, from the clean ward only.
    population_by_group(citizens_all, households_all).write_csv(truth_dir / "mart_population_by_group.csv")
    service_kpis(versions, latest_extract).write_csv(truth_dir / "mart_service_kpis.csv")
    events = residence_events(citizens_all)
    events.write_csv(truth_dir / "residence_events.csv")
    population_change(events, citizens_all).write_csv(truth_dir / "mart_population_change.csv")
    files.write_csv(truth_dir / "files.csv")
    landing.keyed_again_frame().write_csv(truth_dir / "duplicate_rows.csv")
    twins.sort("person_seq_a").write_csv(truth_dir / "twins.csv")
    namesakes(citizens_all).write_csv(truth_dir / "namesakes.csv")
    dirt = landing.dirt_frame()
    dirt.write_csv(truth_dir / "dirt.csv")
    id_delivered = (
        dirt.filter(pl.col("kind").is_in(list(ID_DELIVERED)) & (pl.col("column") == "citizen_id"))
        .select("source_file", "row_number", citizen_id_delivered=pl.col("kind").replace_strict(ID_DELIVERED))
        .lazy()
    )

    # The clean ward with its lineage (every clean row was delivered exactly once in a loaded file).
    summary_residents = int(
        citizens_all.filter(pl.col("snapshot_date") == snapshot_dates[1])["is_resident"].sum()
    )
    n_households = households_all.filter(pl.col("snapshot_date") == snapshot_dates[1]).height
    n_people = citizens_all.filter(pl.col("snapshot_date") == snapshot_dates[0]).height
    n_dossiers, n_versions = versions["record_id"].n_unique(), versions.height
    for source, frame, drop in (
        ("citizens", citizens_all, ["raw_name", "planted", "planted_death"]),  # (snapshot_date, person_seq)
        ("households", households_all, ["head_raw_name"]),  # in (snapshot_date, household_id) order
        (
            "service_records",
            versions,
            ["applicant_raw_name", "dossier"],
        ),  # in (extract_date, updated_at) order
    ):
        lineage = landing.lineage_of(source)
        if lineage.height != frame.height:
            raise AssertionError(f"{source}: {frame.height} clean rows but {lineage.height} delivered")
        clean = frame.lazy().drop(drop).join(lineage.lazy(), on=LINEAGE_KEYS[source], maintain_order="left")
        if source == "citizens":  # how the row delivered the person's ID
            clean = clean.join(
                id_delivered, on=["source_file", "row_number"], how="left", maintain_order="left"
            ).with_columns(pl.col("citizen_id_delivered").fill_null("valid"))
        clean.sink_parquet(truth_dir / f"{source}_clean.parquet")
    for path in sorted(truth_dir.iterdir()):
        set_mtime(path, snapshot_dates[1])

    return GenerateSummary(
        landing_dir=landing_dir,
        truth_dir=truth_dir,
        snapshot_dates=snapshot_dates,
        people=n_people,
        residents=summary_residents,
        households=n_households,
        dossiers=n_dossiers,
        dossier_versions=n_versions,
        files=files.height,
        rows_written=int(files["rows_in"].fill_null(0).sum()),
        rows_quarantined=int(files["rows_quarantined"].fill_null(0).sum()),
    )
