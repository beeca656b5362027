"""Clean service records: a year of dossiers, each a timeline of status changes, cut into weekly extracts.

A dossier is received (Mới tiếp nhận), taken up (Đang xử lý), may be asked for supplements up to three
times (Yêu cầu bổ sung, then Đang xử lý again), and ends returned (Đã trả kết quả), refused (Từ chối)
or withdrawn (Rút hồ sơ); a few stall and stay open. Every change is a version with a later
`updated_at`. The weekly extract of date E holds, for every dossier changed in the week (E-7, E], its
last version of that week; versions after the last extract date are never delivered, so the
dossier's delivered latest version is its state on that date.

Due dates are the procedure's working days after receipt (numpy business days, Monday to Friday).
Vectorised: one numpy pass over all events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import polars as pl

from ward.generate.population import Ward
from ward.generate.reference import MOBILE_PREFIXES, load_reference
from ward.generate.rng import stream
from ward.generate.text import clean_name
from ward.settings import WARD_CODE

DOSSIERS_PER_PERSON_YEAR = 0.25
WEEKS = 52  # weekly extracts: the last one on snapshot 2's date, 52 before it
CHANNEL_CODES = ("truc_tiep", "truc_tuyen", "buu_chinh")
CHANNEL_WORDS = ("Trực tiếp", "Trực tuyến", "Bưu chính công ích")
OUTCOME_P = {"Đã trả kết quả": 0.905, "Từ chối": 0.045, "Rút hồ sơ": 0.03, "stalled": 0.02}
SUPPLEMENT_P = np.array([0.80, 0.12, 0.06, 0.02])  # 0..3 supplement requests
LATE_SHARE = 0.12  # finished after the due date
POSTAL_SHARE = 0.04
APPLICANT_OUTSIDER_SHARE = 0.05  # applicants who are not ward citizens
PAPER_ID_MISSING_SHARE = 0.30


@dataclass(frozen=True)
class Procedure:
    code: str
    name: str
    domain: str
    working_days: int
    weight: float
    online_share: float


# Codes in the national procedure catalogue's form (1.00xxxx / 2.00xxxx); names and domains as the
# commune-level catalogue writes them. Weights give each procedure's share of the ward's dossiers.
PROCEDURES = (
    Procedure("1.001193", "Đăng ký khai sinh", "Hộ tịch", 1, 8, 0.63),
    Procedure("1.000894", "Đăng ký kết hôn", "Hộ tịch", 3, 4, 0.34),
    Procedure("1.000656", "Đăng ký khai tử", "Hộ tịch", 1, 3, 0.46),
    Procedure("1.004873", "Cấp Giấy xác nhận tình trạng hôn nhân", "Hộ tịch", 3, 8, 0.57),
    Procedure("1.004746", "Cấp bản sao trích lục hộ tịch", "Hộ tịch", 1, 5, 0.57),
    Procedure("1.004859", "Đăng ký lại khai sinh", "Hộ tịch", 5, 1, 0.34),
    Procedure("2.000635", "Đăng ký thay đổi, cải chính, bổ sung thông tin hộ tịch", "Hộ tịch", 3, 2, 0.4),
    Procedure("1.001022", "Đăng ký nhận cha, mẹ, con", "Hộ tịch", 3, 0.5, 0.23),
    Procedure("2.000815", "Chứng thực bản sao từ bản chính giấy tờ, văn bản", "Chứng thực", 0, 20, 0.17),
    Procedure("2.000884", "Chứng thực chữ ký trong các giấy tờ, văn bản", "Chứng thực", 0, 6, 0.11),
    Procedure(
        "2.001035",
        "Chứng thực hợp đồng, giao dịch liên quan đến tài sản là động sản",
        "Chứng thực",
        2,
        3,
        0.06,
    ),
    Procedure("2.001019", "Chứng thực di chúc", "Chứng thực", 2, 0.5, 0.0),
    Procedure(
        "2.000913", "Chứng thực việc sửa đổi, bổ sung, hủy bỏ hợp đồng, giao dịch", "Chứng thực", 2, 0.5, 0.0
    ),
    Procedure("1.004194", "Đăng ký thường trú", "Cư trú", 7, 4, 0.8),
    Procedure("1.004222", "Đăng ký tạm trú", "Cư trú", 3, 5, 0.8),
    Procedure("1.004227", "Gia hạn tạm trú", "Cư trú", 3, 2, 0.86),
    Procedure("1.004203", "Khai báo tạm vắng", "Cư trú", 1, 1.5, 0.69),
    Procedure("1.004206", "Xóa đăng ký thường trú", "Cư trú", 1, 1.5, 0.69),
    Procedure("1.004199", "Tách hộ", "Cư trú", 5, 1, 0.69),
    Procedure(
        "1.001776",
        "Thực hiện, điều chỉnh, thôi hưởng trợ cấp xã hội hằng tháng",
        "Bảo trợ xã hội",
        10,
        2,
        0.23,
    ),
    Procedure(
        "1.001758",
        "Chi trả trợ cấp xã hội hằng tháng khi đối tượng thay đổi nơi cư trú",
        "Bảo trợ xã hội",
        7,
        0.8,
        0.11,
    ),
    Procedure(
        "1.001739", "Hỗ trợ chi phí mai táng cho đối tượng bảo trợ xã hội", "Bảo trợ xã hội", 3, 0.5, 0.11
    ),
    Procedure(
        "1.003003",
        "Đăng ký biến động quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất",
        "Đất đai",
        10,
        1.5,
        0.23,
    ),
    Procedure("1.003554", "Hòa giải tranh chấp đất đai", "Đất đai", 30, 0.3, 0.0),
    Procedure("1.010832", "Giải quyết chế độ trợ cấp thờ cúng liệt sĩ", "Người có công", 7, 0.4, 0.11),
)


def extract_dates(last: date) -> list[date]:
    """The weekly service_records extract dates: 52 weeks back from `last`, oldest first."""
    return [last - timedelta(days=7 * (WEEKS - k)) for k in range(WEEKS + 1)]


def _np_day(d: date) -> np.datetime64:
    return np.datetime64(d.isoformat(), "D")


def build_dossiers(ward: Ward, people: int, seed: int) -> pl.DataFrame:
    """Every delivered version: one row per (dossier, weekly extract in which it changed), clean values."""
    rng = stream(seed, "dossiers")
    last = ward.snapshot_dates[1]
    weeks = extract_dates(last)
    first_day = _np_day(weeks[0] - timedelta(days=6))
    receipt_from = _np_day(last - timedelta(days=364))  # a year of receipts ending on the last date
    end = _np_day(last)
    n = max(50, round(DOSSIERS_PER_PERSON_YEAR * people))

    weights = np.array([p.weight for p in PROCEDURES])
    proc = rng.choice(len(PROCEDURES), size=n, p=weights / weights.sum())
    online_share = np.array([p.online_share for p in PROCEDURES])[proc]
    u = rng.random((n, 8))
    channel = np.where(u[:, 0] < online_share, 1, np.where(u[:, 1] < POSTAL_SHARE / (1 - 0.4), 2, 0))

    # Receipt: paper on working days in office hours, online any day at any hour.
    n_busdays = int(np.busday_count(receipt_from, end + 1))
    busday = np.busday_offset(receipt_from, rng.integers(0, n_busdays, n), roll="forward")
    anyday = receipt_from + rng.integers(0, int((end - receipt_from).astype(int)) + 1, n)
    received_day = np.where(channel == 1, anyday, busday)
    seconds = np.where(channel == 1, rng.integers(0, 86400, n), rng.integers(7 * 3600 + 1800, 17 * 3600, n))
    received = received_day.astype("datetime64[s]") + seconds
    wd = np.array([p.working_days for p in PROCEDURES])[proc]
    due_day = np.busday_offset(received_day, wd, roll="forward")
    due_end = due_day.astype("datetime64[s]") + np.timedelta64(16 * 3600 + 1800, "s")

    outcome_names = list(OUTCOME_P)
    outcome = rng.choice(len(outcome_names), size=n, p=list(OUTCOME_P.values()))
    supplements = rng.choice(4, size=n, p=SUPPLEMENT_P)
    late = u[:, 2] < LATE_SHARE + 0.1 * supplements
    span = np.maximum((due_end - received).astype(np.int64), 0)
    on_time_end = received + (span * (0.05 + 0.95 * u[:, 3])).astype("timedelta64[s]")
    quick = span < 900  # received at or after the due day's closing: done within the hour or so
    on_time_end = np.where(quick, received + (600 + u[:, 3] * 2700).astype("timedelta64[s]"), on_time_end)
    late_day = np.busday_offset(due_day, rng.integers(1, 13, n), roll="forward")
    late_end = late_day.astype("datetime64[s]") + rng.integers(8 * 3600, 17 * 3600, n)
    # At least ten minutes after receipt, so every intermediate version comes before the final one.
    finished_at = np.maximum(np.where(late, late_end, on_time_end), received + np.timedelta64(600, "s"))
    withdrawn_at = received + (3600 + u[:, 4] * 10 * 86400).astype("timedelta64[s]")
    stalled_until = received + (5 * 86400 + u[:, 4] * 55 * 86400).astype("timedelta64[s]")
    final_kind = np.asarray(outcome_names)[outcome]
    end_at = np.where(
        final_kind == "Rút hồ sơ", withdrawn_at, np.where(final_kind == "stalled", stalled_until, finished_at)
    )
    has_final = final_kind != "stalled"

    # Events: received, taken up, 2 per supplement, final (when not stalled).
    n_mid = 1 + 2 * supplements
    n_events = 1 + n_mid + has_final
    dossier = np.repeat(np.arange(n), n_events)
    pos = np.arange(len(dossier)) - np.repeat(np.cumsum(n_events) - n_events, n_events)
    is_first = pos == 0
    is_final = has_final[dossier] & (pos == n_events[dossier] - 1)
    is_mid = ~is_first & ~is_final
    frac = np.where(is_mid, rng.random(len(dossier)), 0.0)
    order = np.lexsort((frac, ~is_first, is_final, dossier))  # within a dossier: first, mids by time, final
    frac = frac[order]
    mid_rank = pos - 1  # 0..n_mid-1 after sorting by frac
    interval = (end_at - received).astype(np.int64)[dossier]
    t = received[dossier] + (frac * interval * 0.9).astype("timedelta64[s]") + pos.astype("timedelta64[s]")
    t = np.where(is_final, end_at[dossier], t)
    status = np.where(is_first, "Mới tiếp nhận", np.where(mid_rank % 2 == 0, "Đang xử lý", "Yêu cầu bổ sung"))
    status = np.where(is_final, final_kind[dossier], status).astype(object)
    supp_count = np.where(is_first, 0, np.minimum((mid_rank + 1) // 2, supplements[dossier]))
    supp_count = np.where(is_final, supplements[dossier], supp_count)
    completed = np.where(is_final & (status != "Rút hồ sơ"), t, np.datetime64("NaT"))

    # Weekly windows by date; keep each dossier's last event of each week up to the last extract.
    event_day = t.astype("datetime64[D]")
    week = ((event_day - first_day).astype(np.int64)) // 7
    keep = event_day <= end
    events = pl.DataFrame(
        {
            "dossier": dossier[keep],
            "pos": pos[keep],
            "week": week[keep],
            "status": pl.Series(status[keep].tolist(), dtype=pl.String),
            "supplement_count": supp_count[keep],
            "completed_at": completed[keep].astype("datetime64[us]"),
            "updated_at": t[keep].astype("datetime64[us]"),
        }
    )
    versions = (
        events.sort("dossier", "updated_at", "pos")
        .group_by("dossier", "week", maintain_order=True)
        .last()
        .with_columns(extract_date=pl.lit(pl.Series(weeks, dtype=pl.Date)).gather(pl.col("week")))
    )
    dossiers = _dossier_frame(rng, ward, proc, channel, received, due_day, n)
    return (
        versions.join(dossiers, on="dossier", how="left", maintain_order="left")
        .with_columns(
            pl.col("updated_at").cast(pl.Datetime("us")), pl.col("completed_at").cast(pl.Datetime("us"))
        )
        .select(
            "record_id",
            "procedure_code",
            "procedure_name",
            "domain",
            "applicant_id",
            "applicant_name",
            "applicant_raw_name",
            "applicant_phone",
            "channel",
            "received_at",
            "due_at",
            "completed_at",
            "status",
            "supplement_count",
            "digitized",
            "updated_at",
            "extract_date",
            "dossier",
        )
        .sort("extract_date", "updated_at", "record_id")
    )


def _dossier_frame(rng, ward: Ward, proc, channel, received, due_day, n: int) -> pl.DataFrame:
    """The fixed attributes of each dossier: id, procedure, applicant, channel, dates."""
    received_s = pl.Series(received.astype("datetime64[us]"))
    order = np.lexsort((received.astype(np.int64),))
    rank_in_day = (
        pl.DataFrame({"i": order, "day": received_s.gather(order).dt.date()})
        .with_columns(seq=pl.int_range(1, pl.len() + 1).over("day"))
        .sort("i")["seq"]
    )
    record_id = pl.select(
        pl.concat_str(
            pl.lit(f"H31.{WARD_CODE}-"),
            pl.lit(received_s.dt.strftime("%y%m%d")),
            pl.lit("-"),
            pl.lit(rank_in_day.cast(pl.String).str.zfill(4)),
        )
    ).to_series()
    # Applicants: living adult residents of snapshot 1, a few outsiders.
    start = ward.snapshot_dates[0]
    persons = ward.persons.filter(
        pl.col("in_1")
        & (pl.col("residence_1") != 2)
        & ~pl.col("has_died")
        & (pl.col("date_of_birth") <= date(start.year - 18, start.month, 1))
    )
    pool = persons.select("citizen_id", "full_name", "raw_name", "phone")
    who = rng.integers(0, pool.height, n)
    applicants = pool[who]
    outsider = np.flatnonzero(rng.random(n) < APPLICANT_OUTSIDER_SHARE)
    ids = applicants["citizen_id"].to_numpy().astype(object)
    names = applicants["full_name"].to_numpy().astype(object)
    raw_names = applicants["raw_name"].to_numpy().astype(object)
    ward_ids = np.sort(ward.persons["citizen_id"].cast(pl.Int64).to_numpy())
    ids[outsider], raw_names[outsider] = _outsiders(rng, len(outsider), ward_ids)
    names[outsider] = [clean_name(v) for v in raw_names[outsider]]
    paper = channel != 1
    ids[paper & (rng.random(n) < PAPER_ID_MISSING_SHARE)] = None
    phones = applicants["phone"].to_numpy().astype(object)
    need_phone = (channel == 1) & pl.Series(phones.tolist(), dtype=pl.String).is_null().to_numpy()
    k = int(need_phone.sum())
    prefixes = np.asarray(MOBILE_PREFIXES)[rng.integers(0, len(MOBILE_PREFIXES), k)]
    phones[need_phone] = [
        f"{p}{v:07d}" for p, v in zip(prefixes.tolist(), rng.integers(0, 10**7, k).tolist(), strict=True)
    ]
    digitized = np.where(rng.random(n) < np.where(channel == 1, 0.7, 0.5), "Có", "Không")
    return pl.DataFrame(
        {
            "dossier": np.arange(n),
            "record_id": record_id,
            "procedure_code": [PROCEDURES[i].code for i in proc],
            "procedure_name": [PROCEDURES[i].name for i in proc],
            "domain": [PROCEDURES[i].domain for i in proc],
            "applicant_id": pl.Series(ids.tolist(), dtype=pl.String),
            "applicant_name": pl.Series(names.tolist(), dtype=pl.String),
            "applicant_raw_name": pl.Series(raw_names.tolist(), dtype=pl.String),
            "applicant_phone": pl.Series(phones.tolist(), dtype=pl.String),
            "channel": np.asarray(CHANNEL_CODES)[channel],
            "received_at": received_s,
            "due_at": pl.Series(due_day).cast(pl.Date),
            "digitized": digitized,
        }
    )


def _outsiders(rng: np.random.Generator, k: int, ward_ids: np.ndarray) -> tuple[list[str], list[str]]:
    """IDs (of nobody in the ward: `ward_ids` sorted) and names of applicants who are not ward
    citizens, people of neighbouring provinces."""
    ref = load_reference()
    province = rng.choice([30, 34, 36, 22, 1, 33], size=k)
    year = rng.integers(1950, 2007, k)
    female = rng.random(k) < 0.5
    stem = province * 10**9 + ((year // 100 - 19) * 2 + female) * 10**8 + (year % 100) * 10**6
    ids = stem + rng.integers(0, 10**6, k)
    taken = ward_ids[np.minimum(np.searchsorted(ward_ids, ids), len(ward_ids) - 1)] == ids
    while taken.any() or len(np.unique(ids)) < k:
        ids = np.where(taken, stem + rng.integers(0, 10**6, k), ids)
        _, first = np.unique(ids, return_index=True)
        taken = ward_ids[np.minimum(np.searchsorted(ward_ids, ids), len(ward_ids) - 1)] == ids
        taken[np.setdiff1d(np.arange(k), first)] = True
    surnames = rng.choice(len(ref.surnames), size=k, p=ref.surname_p)
    given = [
        ref.given_female[rng.integers(len(ref.given_female))]
        if f
        else ref.given_male[rng.integers(len(ref.given_male))]
        for f in female
    ]
    names = [f"{ref.surnames[s]} {g}" for s, g in zip(surnames, given, strict=True)]
    return [f"{v:012d}" for v in ids.tolist()], names
