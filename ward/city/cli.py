"""`ward city …`: many wards in one deployment (WARD_CITY_DIR, WARD_CODES: ward/city/settings.py)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from ward.city.settings import ENV_CITY_DIR, ENV_WARD_CODES, CitySettings, SettingsError, parse_ward_codes

app = typer.Typer(
    help=f"Many wards, one deployment: city root ${ENV_CITY_DIR} (default data/city), ${ENV_WARD_CODES}.",
    no_args_is_help=True,
)
console = Console()


def _city_and_codes(wards: str | None) -> tuple[CitySettings, tuple[str, ...]]:
    try:
        city = CitySettings.from_env()
        codes = parse_ward_codes(wards, "--wards") or city.ward_codes()
    except SettingsError as refused:
        console.print(f"[red]{escape(str(refused))}", highlight=False)
        raise typer.Exit(2) from None
    return city, codes


@app.command()
def run(
    parallel: Annotated[
        int | None, typer.Option(help="Wards at once (default $WARD_CITY_PARALLEL or the CPU count).")
    ] = None,
    wards: Annotated[
        str | None,
        typer.Option(help=f"Comma-separated ward codes (default ${ENV_WARD_CODES}, or landing/*)."),
    ] = None,
) -> None:
    """Run every ward's own pipeline, N at once, each under its share of the memory budget; then build
    the city marts from what each ward published. Exit 1 when a ward did not finish cleanly."""
    from ward.city.run import run_city

    city, codes = _city_and_codes(wards)
    try:
        raise typer.Exit(run_city(city, console, codes=codes, parallel=parallel))
    except SettingsError as refused:
        console.print(f"[red]{escape(str(refused))}", highlight=False)
        raise typer.Exit(2) from None


@app.command()
def generate(
    wards: Annotated[str, typer.Option(help="Comma-separated ward codes, e.g. 11446,10507.")],
    people: Annotated[int, typer.Option(help="Residents of each synthetic ward.")] = 60_000,
    groups: Annotated[int, typer.Option(help="Residential groups per ward (at most 40).")] = 40,
    seed: Annotated[int, typer.Option(help="Same seed, same files (each ward its own population).")] = 11446,
) -> None:
    """Write a synthetic ward into landing/<code>/ for each ward (its truth in wards/<code>/truth)."""
    from ward.city.generate import generate_city

    city, codes = _city_and_codes(wards)
    try:
        summaries = generate_city(city, codes, people=people, groups=groups, seed=seed)
    except FileExistsError as exc:
        console.print(f"[red]{escape(str(exc))}")
        raise typer.Exit(1) from None
    except ValueError as exc:
        console.print(f"[red]{escape(str(exc))}")
        raise typer.Exit(2) from None
    for code, summary in summaries.items():
        console.print(f"ward {code}: {escape(summary)}")
    console.print(f"Generated into {escape(str(city.landing_dir))}: `ward city run` builds them.")
