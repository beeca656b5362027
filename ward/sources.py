"""The extract contract of ../shared/extract-spec.md as data: one `Column` per canonical column.

The ingest readers map headers with it, the pandera contracts check required columns with it, and the
generator writes headers from it. Enumerations map the delivered words to codes; the staging models
in dbt hold the same mappings as SQL (see dbt_project/macros/), tested against these lists.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Column:
    name: str  # canonical snake_case name
    header: str  # as the national systems write it
    required: bool = False
    aliases: tuple[str, ...] = field(default=())  # other headers seen for the same column


@dataclass(frozen=True)
class Source:
    name: str
    title_vi: str
    columns: tuple[Column, ...]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]


CITIZENS = Source(
    "citizens",
    "Danh sách công dân",
    (
        Column("citizen_id", "Số định danh cá nhân", True, ("Số CCCD", "Số căn cước công dân")),
        Column("legacy_id", "Số CMND"),
        Column("full_name", "Họ và tên", True, ("Họ tên",)),
        Column("date_of_birth", "Ngày sinh", True, ("Ngày, tháng, năm sinh",)),
        Column("sex", "Giới tính", True),
        Column("ethnicity", "Dân tộc"),
        Column("religion", "Tôn giáo"),
        Column("nationality", "Quốc tịch"),
        Column("hometown", "Quê quán"),
        Column("permanent_address", "Nơi thường trú"),
        Column("current_address", "Nơi ở hiện tại"),
        Column("residence_type", "Loại cư trú", True),
        Column("household_id", "Mã hộ", True, ("Số hộ",)),
        Column("relation_to_head", "Quan hệ với chủ hộ", True),
        Column("residential_group", "Tổ dân phố", True),
        Column("phone", "Số điện thoại"),
        Column("marital_status", "Tình trạng hôn nhân"),
        Column("date_of_death", "Ngày mất"),
        Column("updated_at", "Ngày cập nhật"),
    ),
)

HOUSEHOLDS = Source(
    "households",
    "Danh sách hộ gia đình",
    (
        Column("household_id", "Mã hộ", True, ("Số hộ",)),
        Column("head_citizen_id", "Số định danh chủ hộ", True),
        Column("head_name", "Họ tên chủ hộ", True),
        Column("address", "Địa chỉ", True),
        Column("residential_group", "Tổ dân phố", True),
        Column("member_count", "Số thành viên"),
        Column("household_type", "Diện hộ"),
        Column("updated_at", "Ngày cập nhật"),
    ),
)

SERVICE_RECORDS = Source(
    "service_records",
    "Hồ sơ thủ tục hành chính",
    (
        Column("record_id", "Mã hồ sơ", True),
        Column("procedure_code", "Mã thủ tục", True),
        Column("procedure_name", "Tên thủ tục", True),
        Column("domain", "Lĩnh vực"),
        Column("applicant_id", "Số định danh người nộp"),
        Column("applicant_name", "Họ tên người nộp", True),
        Column("applicant_phone", "Số điện thoại"),
        Column("channel", "Kênh nộp", True),
        Column("received_at", "Ngày tiếp nhận", True),
        Column("due_at", "Ngày hẹn trả", True),
        Column("completed_at", "Ngày trả kết quả"),
        Column("status", "Trạng thái", True),
        Column("supplement_count", "Số lần yêu cầu bổ sung"),
        Column("digitized", "Số hóa"),
        Column("updated_at", "Ngày cập nhật", True),
    ),
)

SOURCES: dict[str, Source] = {s.name: s for s in (CITIZENS, HOUSEHOLDS, SERVICE_RECORDS)}

# Lineage columns the ingest adds to every raw row (prefixed so they never clash with data).
LINEAGE_COLUMNS = (
    "_source",  # citizens / households / service_records
    "_source_file",  # path under landing/, e.g. "citizens/ds_2026-10-01.csv"
    "_row_number",  # 1 = first data row under the header
    "_file_sha256",
    "_extract_date",  # DATE
    "_loaded_at",  # TIMESTAMP (UTC)
    "_extra_columns",  # JSON object of unknown columns {header: value}, or null
)

# Enumerations: delivered word (after case/diacritic folding) -> code.
RESIDENCE_TYPES = {"Thường trú": "thuong_tru", "Tạm trú": "tam_tru", "Tạm vắng": "tam_vang"}
SEXES = {"Nam": "M", "Nữ": "F"}
CHANNELS = {"Trực tiếp": "truc_tiep", "Trực tuyến": "truc_tuyen", "Bưu chính công ích": "buu_chinh"}
RELATIONS = (
    "Chủ hộ", "Vợ", "Chồng", "Con", "Bố", "Mẹ", "Ông", "Bà", "Cháu", "Anh", "Chị", "Em",
    "Con dâu", "Con rể", "Khác",
)  # fmt: skip
MARITAL_STATUSES = ("Chưa kết hôn", "Đã kết hôn", "Ly hôn", "Góa")
HOUSEHOLD_TYPES = ("Bình thường", "Hộ nghèo", "Hộ cận nghèo", "Hộ chính sách")
STATUSES = (
    "Mới tiếp nhận",
    "Đang xử lý",
    "Yêu cầu bổ sung",
    "Đã trả kết quả",
    "Từ chối",
    "Rút hồ sơ",
)
FINISHED_STATUSES = ("Đã trả kết quả", "Từ chối")
WITHDRAWN_STATUS = "Rút hồ sơ"
