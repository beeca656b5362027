"""`ward city generate`: a synthetic ward per code, its extracts in <city>/landing/<code>/<source>/.

ward.generate.generate_ward writes a whole data root (landing/ and truth/): each ward is generated
into a temporary root inside the city root (same file system: the files are renamed, their
modification times kept) and its landing files moved to the ward's landing folder; its truth goes to
the ward's data root (<city>/wards/<code>/truth/), where the tests look for it.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from ward.city.settings import CitySettings
from ward.settings import SOURCES


def ward_seed(seed: int, code: str) -> int:
    """Each ward its own population: the city seed and the ward's code."""
    return seed * 100_000 + int(code)


def generate_city(
    city: CitySettings,
    codes: tuple[str, ...],
    *,
    people: int | Mapping[str, int],
    groups: int = 40,
    seed: int = 11446,
) -> dict[str, str]:
    """Generate each ward (`people`: every ward's size, or each code's own); refuses
    (FileExistsError) a ward whose landing folder already has files."""
    sizes = {code: people for code in codes} if isinstance(people, int) else dict(people)
    missing = [code for code in codes if code not in sizes]
    if missing:
        raise ValueError(f"no size given for ward(s) {', '.join(missing)}")
    from ward.generate import generate_ward

    for code in codes:
        landing = city.ward_landing_dir(code)
        if landing.exists() and any(p.is_file() for p in landing.rglob("*")):
            raise FileExistsError(f"{landing} already holds files: the generator never mixes wards' extracts")
    city.root.mkdir(parents=True, exist_ok=True)
    summaries: dict[str, str] = {}
    for code in codes:
        with tempfile.TemporaryDirectory(prefix=f".generate-{code}-", dir=city.root) as temp:
            root = Path(temp)
            summaries[code] = str(
                generate_ward(root, people=sizes[code], groups=groups, seed=ward_seed(seed, code))
            )
            for source in SOURCES:
                target = city.ward_landing_dir(code) / source
                target.mkdir(parents=True, exist_ok=True)
                for file in sorted((root / "landing" / source).iterdir()):
                    shutil.move(file, target / file.name)
            truth = city.ward_data_dir(code) / "truth"
            if truth.exists():
                shutil.rmtree(truth)
            truth.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(root / "truth", truth)
    return summaries
