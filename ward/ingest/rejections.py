"""Why a file cannot be taken, in Vietnamese and English: which file, why, and what to do.

Reasons name files, folders and column headers only, never a cell value (cells are personal data).
"""

from __future__ import annotations

from dataclasses import dataclass

from ward.sources import SOURCES

TITLE_VI = {
    "citizens": "danh sách công dân",
    "households": "danh sách hộ gia đình",
    "service_records": "danh sách hồ sơ thủ tục hành chính",
}
TITLE_EN = {
    "citizens": "citizens list",
    "households": "households list",
    "service_records": "list of administrative dossiers",
}
SUPPORTED_VI = "CSV (UTF-8) hoặc Excel .xlsx"
SUPPORTED_EN = "CSV (UTF-8) or Excel .xlsx"


@dataclass(frozen=True)
class Reason:
    kind: str
    vi: str
    en: str


class Rejection(Exception):
    """A file that cannot be taken; raised by the readers, turned into a `rejected` ledger row."""

    def __init__(self, reason: Reason, rows_in: int | None = None):
        super().__init__(reason.en)
        self.reason = reason
        self.rows_in = rows_in


def _headers(source: str, columns: list[str]) -> str:
    by_name = {c.name: c for c in SOURCES[source].columns}
    return ", ".join(f"'{by_name[c].header}' ({c})" for c in columns)


def empty_file(f: str) -> Reason:
    return Reason(
        "empty_file",
        f"Tệp {f} rỗng (0 byte): hãy tải lại tệp từ hệ thống và đặt lại vào thư mục.",
        f"File {f} is empty (0 bytes): download it again from the source system and drop it again.",
    )


def unsupported_format(f: str, what: str) -> Reason:
    return Reason(
        "unsupported_format",
        f"Tệp {f} không phải tệp {SUPPORTED_VI} ({what}): hãy xuất danh sách ra {SUPPORTED_VI} "
        "rồi đặt tệp đó vào thư mục.",
        f"File {f} is not a {SUPPORTED_EN} file ({what}): export the list as {SUPPORTED_EN} "
        "and drop that file instead.",
    )


def legacy_excel(f: str) -> Reason:
    return Reason(
        "legacy_excel",
        f"Tệp {f} là sổ Excel 97–2003 (.xls) hoặc sổ Excel có mật khẩu: hãy mở bằng Excel, bỏ mật khẩu "
        "nếu có, lưu lại dạng .xlsx (Excel Workbook) rồi đặt tệp mới vào thư mục.",
        f"File {f} is an Excel 97–2003 (.xls) or password-protected workbook: open it in Excel, remove "
        "any password, save it as .xlsx (Excel Workbook) and drop the new file.",
    )


def damaged_excel(f: str) -> Reason:
    return Reason(
        "unreadable",
        f"Tệp {f} không mở được như một sổ Excel .xlsx (tệp có thể bị hỏng hoặc tải về chưa hết): "
        "hãy tải lại hoặc mở bằng Excel và lưu lại dạng .xlsx rồi đặt tệp mới vào thư mục.",
        f"File {f} cannot be opened as an Excel .xlsx workbook (it may be damaged or partly "
        "downloaded): download it again, or open it in Excel and save it as .xlsx, and drop the new file.",
    )


def binary_file(f: str) -> Reason:
    return Reason(
        "unreadable",
        f"Tệp {f} không phải tệp văn bản CSV (có dữ liệu nhị phân): hãy xuất danh sách ra "
        f"{SUPPORTED_VI} rồi đặt tệp đó vào thư mục.",
        f"File {f} is not a CSV text file (it holds binary data): export the list as {SUPPORTED_EN} "
        "and drop that file instead.",
    )


def undecodable(f: str) -> Reason:
    return Reason(
        "undecodable",
        f"Tệp {f} không đọc được theo bảng mã UTF-8, UTF-16 hay Windows-1258: hãy mở bằng Excel, "
        "lưu lại dạng 'CSV UTF-8 (Comma delimited)' rồi đặt tệp mới vào thư mục.",
        f"File {f} cannot be decoded as UTF-8, UTF-16 or Windows-1258 text: open it in Excel, save it "
        "as 'CSV UTF-8 (Comma delimited)' and drop the new file.",
    )


def unparseable_csv(f: str) -> Reason:
    return Reason(
        "unreadable",
        f"Tệp {f} không đọc được như tệp CSV: hãy mở bằng Excel, lưu lại dạng 'CSV UTF-8' hoặc .xlsx "
        "rồi đặt tệp mới vào thư mục.",
        f"File {f} cannot be read as CSV: open it in Excel, save it as 'CSV UTF-8' or .xlsx and drop "
        "the new file.",
    )


def no_header(f: str, source: str, lines: int) -> Reason:
    example = ", ".join([f"'{c.header}'" for c in SOURCES[source].columns if c.required][:3])
    return Reason(
        "header_not_recognised",
        f"Tệp {f} không có dòng tiêu đề cột nhận ra được: trong {lines} dòng đầu không dòng nào có các "
        f"tiêu đề của {TITLE_VI[source]} (ví dụ {example}). Hãy xuất lại danh sách với dòng tiêu đề cột "
        "như hệ thống quốc gia (nếu chữ bị lỗi phông, hãy lưu lại dạng 'CSV UTF-8') rồi đặt tệp mới vào "
        "thư mục.",
        f"File {f} has no recognisable header row: none of its first {lines} lines holds the column "
        f"headers of a {TITLE_EN[source]} (e.g. {example}). Export the list again with the column "
        "header row the national system writes (if the letters look garbled, save it as 'CSV UTF-8') "
        "and drop the new file.",
    )


def no_header_on_first_sheet(f: str, source: str, lines: int, sheet: str, found_on: str | None) -> Reason:
    example = ", ".join([f"'{c.header}'" for c in SOURCES[source].columns if c.required][:3])
    if found_on is not None:
        return Reason(
            "header_not_on_first_sheet",
            f"Tệp {f}: danh sách nằm ở trang tính '{found_on}', không phải trang tính đầu tiên ('{sheet}'), "
            f"mà chỉ trang tính đầu tiên được đọc. Hãy kéo trang tính '{found_on}' lên đầu (hoặc lưu riêng "
            "trang tính đó thành một tệp .xlsx) rồi đặt tệp mới vào thư mục.",
            f"File {f}: the list is on sheet '{found_on}', not on the first sheet ('{sheet}'), and only the "
            f"first sheet is read. Move sheet '{found_on}' to the front (or save it alone as an .xlsx "
            "file) and drop the new file.",
        )
    return Reason(
        "header_not_recognised",
        f"Tệp {f} không có dòng tiêu đề cột nhận ra được: trong {lines} dòng đầu của trang tính đầu tiên "
        f"('{sheet}') không dòng nào có các tiêu đề của {TITLE_VI[source]} (ví dụ {example}). Hãy xuất "
        "lại danh sách với dòng tiêu đề cột như hệ thống quốc gia, ở trang tính đầu tiên, rồi đặt tệp mới "
        "vào thư mục.",
        f"File {f} has no recognisable header row: none of the first {lines} rows of its first sheet "
        f"('{sheet}') holds the column headers of a {TITLE_EN[source]} (e.g. {example}). Export the list "
        "again with the column header row the national system writes, on the first sheet, and drop the "
        "new file.",
    )


def wrong_source(f: str, source: str, actual: str) -> Reason:
    return Reason(
        "wrong_source",
        f"Tệp {f} là {TITLE_VI[actual]}, không phải {TITLE_VI[source]}: hãy chuyển sang thư mục {actual}/.",
        f"File {f} is a {TITLE_EN[actual]}, not a {TITLE_EN[source]}: move it to the {actual}/ folder.",
    )


def missing_columns(f: str, source: str, columns: list[str]) -> Reason:
    names = _headers(source, columns)
    return Reason(
        "missing_required_columns",
        f"Tệp {f} thiếu cột bắt buộc {names}: hãy xuất lại {TITLE_VI[source]} có đủ các cột này rồi "
        "đặt tệp mới vào thư mục.",
        f"File {f} lacks the required column(s) {names}: export the {TITLE_EN[source]} again with "
        "these columns and drop the new file.",
    )


def header_only(f: str) -> Reason:
    return Reason(
        "header_only",
        f"Tệp {f} chỉ có dòng tiêu đề, không có dòng dữ liệu nào: hãy kiểm tra lại khi xuất danh sách "
        "rồi đặt tệp có dữ liệu vào thư mục.",
        f"File {f} has a header row but no data rows: check the export and drop a file that holds data.",
    )


def no_data_rows(f: str) -> Reason:
    return Reason(
        "no_data_rows",
        f"Tệp {f} không có dòng dữ liệu nào dưới dòng tiêu đề (chỉ có dòng trống, dòng tổng hoặc chữ "
        "ký): hãy kiểm tra lại khi xuất danh sách rồi đặt tệp có dữ liệu vào thư mục.",
        f"File {f} has no data rows under its header (only blank, total or signature lines): check the "
        "export and drop a file that holds data.",
    )


def duplicate(f: str, original: str, original_status: str, received: str) -> Reason:
    status_vi = {
        "loaded": "đã nạp", "rejected": "đã bị từ chối", "held": "đang giữ lại",
        "superseded": "đã được thay thế", "withdrawn": "đã rút",
    }.get(original_status, original_status)  # fmt: skip
    return Reason(
        "duplicate",
        f"Tệp {f} trùng nội dung với tệp {original} nhận ngày {received} ({status_vi}): không đọc lại. "
        "Có thể xóa bản sao này khỏi thư mục landing.",
        f"File {f} has the same content as {original}, received on {received} ({original_status}): "
        "it was not read again. This copy can be removed from the landing folder.",
    )


def unknown_folder(f: str, folder: str) -> Reason:
    known = ", ".join(f"{s}/" for s in SOURCES)
    return Reason(
        "unknown_folder",
        f"Tệp {f} nằm ngoài các thư mục đã biết ({folder}): không đọc. Hãy đặt tệp vào một trong các "
        f"thư mục {known}.",
        f"File {f} is outside the known folders ({folder}): not read. Put it into one of {known}.",
    )


def future_date(f: str, when: str, today: str) -> Reason:
    return Reason(
        "future_extract_date",
        f"Tệp {f} mang ngày trích xuất {when}, sau ngày hôm nay ({today}): một bản trích xuất không thể "
        "có ngày trong tương lai. Hãy sửa ngày trong tên tệp (dạng YYYY-MM-DD, ngày xuất danh sách) rồi "
        "đặt lại tệp vào thư mục.",
        f"File {f} carries the extract date {when}, after today ({today}): an extract cannot come from "
        "the future. Correct the date in the file name (YYYY-MM-DD, the day the list was exported) and "
        "drop the file again.",
    )


def unpacked_too_big(f: str, unpacked: int, size: int, limit: str) -> Reason:
    mib = unpacked / 2**20
    return Reason(
        "unpacked_too_big",
        f"Tệp {f} nén {size:,} byte nhưng khai báo {mib:,.0f} MiB khi giải nén ({limit}): không mở, để "
        "bảo vệ máy chủ (có thể là tệp hỏng hoặc tệp độc hại). Nếu đây đúng là danh sách, hãy mở bằng "
        "Excel, lưu lại dạng 'CSV UTF-8' rồi đặt tệp mới vào thư mục.",
        f"File {f} is {size:,} bytes but declares {mib:,.0f} MiB once unpacked ({limit}): not opened, to "
        "protect the server (a damaged or malicious file). If it really is the list, open it in Excel, "
        "save it as 'CSV UTF-8' and drop the new file.",
    )


def reader_failed(f: str, error: str) -> Reason:
    return Reason(
        "reader_failed",
        f"Tệp {f} làm trình đọc gặp lỗi ({error}) và không đọc được: tệp đã được để riêng và sẽ không "
        f"được đọc lại. Hãy mở bằng Excel, lưu lại dạng {SUPPORTED_VI} rồi đặt tệp mới vào thư mục; "
        "nếu vẫn lỗi, báo cho nhóm dữ liệu.",
        f"File {f} made the reader fail ({error}) and could not be read: it is set aside and will not "
        f"be read again. Open it in Excel, save it as {SUPPORTED_EN} and drop the new file; if that "
        "fails too, report it to the data team.",
    )


# Entries of a source folder that are not read at all (ward/ingest/entries.py): nothing is copied
# to rejected/, because nothing was opened.
_NOT_READ = {
    "symlink": (
        "là một liên kết (symbolic link), không phải tệp: liên kết không bao giờ được đi theo. Hãy "
        "chép chính tệp đó vào thư mục.",
        "is a symbolic link, not a file: links are never followed. Copy the file itself into the folder.",
    ),
    "fifo": (
        "là một đường ống (FIFO), không phải tệp: không mở. Hãy đặt một tệp thật vào thư mục.",
        "is a pipe (FIFO), not a file: not opened. Put a real file into the folder.",
    ),
    "special": (
        "không phải tệp thông thường (socket hoặc thiết bị): không mở. Hãy đặt một tệp thật vào thư mục.",
        "is not a regular file (a socket or a device): not opened. Put a real file into the folder.",
    ),
    "folder": (
        "là một thư mục con: thư mục con không được đọc. Hãy chuyển các tệp trong đó lên thẳng thư mục "
        "nguồn.",
        "is a sub-folder: sub-folders are not read. Move the files in it up into the source folder itself.",
    ),
    "hidden": (
        "là tệp ẩn (tên bắt đầu bằng dấu chấm): không đọc. Nếu đây là bản trích xuất, hãy đổi tên "
        "cho không bắt đầu bằng dấu chấm.",
        "is a hidden file (its name starts with a dot): not read. If it is an extract, rename it so "
        "that its name does not start with a dot.",
    ),
    "bad_name": (
        "có tên chứa ký tự không hiển thị được (không phải UTF-8, ký tự điều khiển hoặc ký tự ẩn; "
        "được ghi với dấu \\): không đọc. Hãy đổi tên tệp chỉ dùng chữ, số, dấu gạch rồi đặt lại.",
        "has a name with characters that cannot be shown (not UTF-8, control or invisible characters; "
        "written here with \\ escapes): not read. Rename it with letters, digits and dashes only and "
        "drop it again.",
    ),
}


_NOT_READ_KINDS = {
    "symlink": "symlink", "fifo": "fifo", "special": "special_file", "folder": "sub_folder",
    "hidden": "hidden_file", "bad_name": "bad_file_name",
}  # fmt: skip


def not_read(f: str, kind: str) -> Reason:
    """`kind`: one of ward.ingest.entries' kinds (symlink, fifo, special, folder, hidden, bad_name)."""
    vi, en = _NOT_READ[kind]
    label_vi, label_en = ("Thư mục", "Folder") if kind == "folder" else ("Tệp", "File")
    return Reason(_NOT_READ_KINDS[kind], f"{label_vi} {f} {vi}", f"{label_en} {f} {en}")


# Deliveries held, superseded or withdrawn after they were read (ward/deliveries). -----------------


def held_snapshot(
    f: str, when: str, files: int, baseline: str, figures: str, worst: str, threshold: float
) -> Reason:
    """`figures`: "1,440 → 2 persons (−99.9%)"; `worst`: "Tổ dân phố 3: 352 → 0 (−100.0%)"."""
    limit = f"{threshold:.0%}"
    return Reason(
        "held_snapshot",
        f"Tạm giữ: danh sách công dân ngày {when} ({files} tệp, gồm tệp {f}) so với ngày {baseline}: "
        f"{figures.replace('persons', 'người')}; nặng nhất {worst}. Mất hơn {limit} số người thường là tệp "
        "thiếu hoặc nhầm: các dòng của tệp chưa được dùng, số liệu đã công bố giữ nguyên. Nếu tệp đúng, "
        f"chạy `ward release {f}`; nếu sai, chạy `ward withdraw {f}` rồi đặt danh sách đầy đủ vào thư mục.",
        f"Held: the citizens list of {when} ({files} file(s), {f} included) against {baseline}: "
        f"{figures}; worst {worst}. Losing more than {limit} of the persons usually means a partial or "
        "wrong file: its rows are not used and the published figures stay as they were. If the file is "
        f"right, run `ward release {f}`; if not, run `ward withdraw {f}` and drop the complete list.",
    )


def held_dossiers_ahead(f: str, when: str, today: str, ahead: int, rows: int, threshold: float) -> Reason:
    share = ahead / rows if rows else 0.0
    return Reason(
        "held_dossiers_ahead",
        f"Tạm giữ: {ahead:,} trên {rows:,} dòng ({share:.1%}, quá {threshold:.0%}) của tệp {f} có ngày tiếp "
        f"nhận hoặc ngày cập nhật sau ngày trích xuất {when} hoặc sau hôm nay ({today}): tệp có thể bị sai "
        "ngày. Các dòng chưa được dùng. Nếu tệp đúng, chạy `ward release "
        f"{f}`; nếu sai, chạy `ward withdraw {f}` rồi đặt tệp đã sửa vào thư mục.",
        f"Held: {ahead:,} of {rows:,} rows ({share:.1%}, above {threshold:.0%}) of {f} are received or "
        f"updated after its extract date {when} or after today ({today}): the file's dates look wrong. "
        f"Its rows are not used. If the file is right, run `ward release {f}`; if not, run "
        f"`ward withdraw {f}` and drop the corrected file.",
    )


def superseded(f: str, newer_sha: str, received: str) -> Reason:
    return Reason(
        "superseded",
        f"Đã được thay thế bởi tệp cùng tên {f} gửi lại ngày {received} (sha256 {newer_sha[:12]}…): các "
        "dòng của bản cũ này không còn được dùng.",
        f"Replaced by the file delivered again under the same name {f} on {received} (sha256 "
        f"{newer_sha[:12]}…): the rows of this earlier delivery are no longer used.",
    )


def withdrawn(f: str, day: str) -> Reason:
    return Reason(
        "withdrawn",
        f"Đã rút ngày {day} (`ward withdraw`; ai, khi nào: audit/deliveries.jsonl): các dòng của tệp {f} "
        "không còn được dùng, dữ liệu được dựng lại như thể tệp chưa từng đến.",
        f"Withdrawn on {day} (`ward withdraw`; who and when: audit/deliveries.jsonl): the rows of {f} are "
        "no longer used; the data is rebuilt as if the file had never come.",
    )
