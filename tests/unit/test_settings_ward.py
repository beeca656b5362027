"""The ward a data root serves (WARD_CODE) and where its extracts are dropped (WARD_LANDING_DIR).

One deployment serves many wards by running each with its own WARD_CODE, WARD_DATA_DIR and
WARD_LANDING_DIR; dbt writes the code as `ward_code` on every staged row and every mart.
"""

from pathlib import Path

import pytest

from orchestration.resources import WardResource
from ward.settings import (
    ENV_LANDING_DIR,
    ENV_WARD_CODE,
    WARD_CODE,
    Settings,
    SettingsError,
    ward_codes,
)


def _env(tmp_path: Path, **more: str) -> dict[str, str]:
    return {"WARD_DATA_DIR": str(tmp_path / "data"), **more}


def test_the_ward_code_defaults_to_phu_lien_and_reaches_dbt(tmp_path):
    settings = Settings.from_env(_env(tmp_path))
    assert settings.ward_code == WARD_CODE == "11446"
    assert ward_codes()[WARD_CODE] == "Phường Phù Liễn, Thành phố Hải Phòng"
    assert settings.dbt_env()[ENV_WARD_CODE] == "11446"
    assert Settings(data_dir=tmp_path).ward_code == WARD_CODE


def test_settings_read_ward_code_with_its_leading_zeros(tmp_path):
    settings = Settings.from_env(_env(tmp_path, **{ENV_WARD_CODE: " 00004 "}))  # Ba Đình, Hà Nội
    assert settings.ward_code == "00004"
    assert settings.dbt_env()[ENV_WARD_CODE] == "00004"
    assert Settings.from_env(_env(tmp_path, **{ENV_WARD_CODE: ""})).ward_code == WARD_CODE


@pytest.mark.parametrize(
    ("code", "says"),
    [
        ("4", "not 5 digits"),
        ("1144", "not 5 digits"),
        ("114460", "not 5 digits"),
        ("11a46", "not 5 digits"),
        ("11446'; drop table x; --", "not 5 digits"),
        ("99999", "no commune or ward"),
    ],
)
def test_a_bad_ward_code_is_refused_naming_the_variable(tmp_path, code, says):
    with pytest.raises(SettingsError) as refused:
        Settings.from_env(_env(tmp_path, **{ENV_WARD_CODE: code}))
    message = str(refused.value)
    assert message.startswith(f"{ENV_WARD_CODE} ") and says in message
    assert "admin_units_2025.csv" in message
    with pytest.raises(SettingsError):
        Settings(data_dir=tmp_path, ward_code=code)


def test_ward_landing_dir_moves_the_landing_folder(tmp_path):
    default = Settings.from_env(_env(tmp_path))
    assert default.landing_dir == tmp_path / "data" / "landing"
    assert default.landing_dir_override is None

    city = tmp_path / "city" / "landing" / "00004"
    settings = Settings.from_env(_env(tmp_path, **{ENV_WARD_CODE: "00004", ENV_LANDING_DIR: str(city)}))
    assert settings.landing_dir == city.resolve()
    assert settings.landing_source_dir("citizens") == city.resolve() / "citizens"
    assert settings.raw_dir == tmp_path / "data" / "raw"  # everything else stays under the data root
    assert settings.build_db_path.is_relative_to(tmp_path / "data")


def test_ward_code_and_landing_dir_reach_every_step(tmp_path):
    """public_values() / from_public_values() (the `ward` resource) carry the new fields."""
    settings = Settings.from_env(
        _env(tmp_path, **{ENV_WARD_CODE: "00004", ENV_LANDING_DIR: str(tmp_path / "landing-00004")})
    )
    values = settings.public_values()
    assert values["ward_code"] == "00004"
    assert values["landing_dir_override"] == str(tmp_path / "landing-00004")
    assert Settings.from_public_values(values) == settings
    assert WardResource.from_settings(settings).settings == settings
