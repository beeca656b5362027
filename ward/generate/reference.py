"""The reference lists the generator draws from (data/reference/, read from ward.settings.REFERENCE_DIR)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ward.settings import REFERENCE_DIR, WARD_CODE

# Share of each birth-registration province among the ward's own people (the rest spread evenly).
# 031 Hải Phòng first; 001 Hà Nội and other 00x codes so that lost leading zeros are 1 or 2 digits.
HOME_PROVINCE_WEIGHTS = {
    "031": 80.0, "030": 5.0, "001": 3.0, "034": 2.0, "036": 1.5, "022": 1.5, "033": 1.0,
    "038": 1.0, "040": 0.7, "002": 0.3, "004": 0.2, "006": 0.2, "008": 0.2, "079": 0.5,
}  # fmt: skip
# Tạm trú people (workers and students from elsewhere) are born in other provinces more often.
TEMPORARY_PROVINCE_WEIGHTS = {
    "031": 35.0, "030": 12.0, "034": 8.0, "036": 7.0, "037": 5.0, "038": 6.0, "040": 5.0,
    "001": 5.0, "022": 4.0, "033": 4.0, "027": 2.0, "004": 0.5, "008": 0.5, "010": 0.5,
}  # fmt: skip

# Mobile prefixes in use since 2018 (3 digits after the leading 0 is included).
MOBILE_PREFIXES = (
    "086", "096", "097", "098", "032", "033", "034", "035", "036", "037", "038", "039",
    "088", "091", "094", "081", "082", "083", "084", "085",
    "089", "090", "093", "070", "076", "077", "078", "079",
    "092", "056", "058", "099", "059",
)  # fmt: skip

ETHNIC_WEIGHTS = {"Kinh": 98.3, "Tày": 0.3, "Mường": 0.3, "Hoa": 0.4, "Nùng": 0.2, "Thái": 0.2, "Dao": 0.1,
                  "Sán Dìu": 0.1, "H'Mông": 0.05, "Khơ Me": 0.05}  # fmt: skip
RELIGION_WEIGHTS = {"Không": 86.0, "Phật giáo": 9.0, "Công giáo": 4.2, "Tin Lành": 0.5, "Cao Đài": 0.2,
                    "Phật giáo Hòa Hảo": 0.1}  # fmt: skip


@dataclass(frozen=True)
class Reference:
    surnames: list[str]
    surname_p: np.ndarray
    given_male: list[str]
    given_female: list[str]
    province_codes: list[str]
    province_names: dict[str, str]
    old_to_new_prefix: dict[str, str]  # 11-digit era prefix -> 10-digit prefix
    new_to_old_prefix: dict[str, str]
    ethnic_groups: list[str]
    religions: list[str]
    group_numbers: list[int]  # the ward's residential groups
    hai_phong_wards: list[str]  # "Phường X, Thành phố Hải Phòng" (hometowns)
    elsewhere: list[str]  # wards of other provinces (addresses of people living or registered elsewhere)

    def province_p(self, weights: dict[str, float], rest: float = 0.5) -> np.ndarray:
        """Probabilities over `province_codes`: the listed weights, `rest` percent spread over the others."""
        others = [c for c in self.province_codes if c not in weights]
        w = np.array([weights.get(c, rest / max(1, len(others))) for c in self.province_codes], dtype=float)
        return w / w.sum()


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _lines(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@lru_cache(maxsize=2)
def load_reference(directory: Path = REFERENCE_DIR) -> Reference:
    surnames = _rows(directory / "surnames.csv")
    weights = np.array([float(r["weight_percent"]) for r in surnames])
    provinces = _rows(directory / "id_birth_province_codes.csv")
    prefixes = _rows(directory / "phone_prefix_2018.csv")
    units = _rows(directory / "admin_units_2025.csv")
    hai_phong = [
        f"{u['ward_full_name']}, {u['province_full_name']}"
        for u in units
        if u["province_code"] == "31" and u["ward_code"] != WARD_CODE
    ]
    elsewhere = [
        f"{u['ward_full_name']}, {u['province_full_name']}" for u in units if u["province_code"] != "31"
    ]
    return Reference(
        surnames=[r["surname"] for r in surnames],
        surname_p=weights / weights.sum(),
        given_male=_lines(directory / "given_names_male.txt"),
        given_female=_lines(directory / "given_names_female.txt"),
        province_codes=[r["code"] for r in provinces],
        province_names={r["code"]: r["province_name_at_issue"] for r in provinces},
        old_to_new_prefix={r["old_prefix"]: r["new_prefix"] for r in prefixes},
        new_to_old_prefix={r["new_prefix"]: r["old_prefix"] for r in prefixes},
        ethnic_groups=[r["name"] for r in _rows(directory / "ethnic_groups.csv")],
        religions=[r["name"] for r in _rows(directory / "religions.csv")],
        group_numbers=sorted(
            int(r["residential_group_no"]) for r in _rows(directory / "residential_groups_11446.csv")
        ),
        hai_phong_wards=hai_phong,
        elsewhere=elsewhere,
    )
