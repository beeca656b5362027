"""Names as evidence of two people within one snapshot (ward.identity.names)."""

from __future__ import annotations

import pytest

from ward.identity.names import fold, name_evidence, names_conflict


@pytest.mark.parametrize(
    ("left", "right", "evidence"),
    [
        ("Nguyễn Văn Hùng", "Nguyễn Văn Hưng", "two"),  # one folded name, two real names: twins
        ("Trần Anh Duy", "Trần Anh Dũng", "two"),  # both words are given names, far apart
        ("Phạm Minh Anh", "Phạm Minh An", "near"),  # real names one letter apart: other evidence
        ("Mai Thanh Thảo", "Mai Thanh Tảo", "near"),
        ("Lê Thị Lan", "Lê Thị Lân", "near"),  # one plain word in a name with diacritics
        ("Nguyễn Văn Hùng", "Nguyen Van Hung", "slip"),  # keyed wholly without diacritics
        ("Vương Thắng Lợi", "Vương Thắng Lơi", "slip"),  # a tone mark alone
        ("Nguyễn Đức Quang", "Nguyễn Dức Quang", "slip"),  # đ keyed as d
        ("Bùi Diễm Quỳnh", "Bùi Điễm Quỳnh", "slip"),
        ("Trần Anh Dũng", "Trần Anh Dng", "slip"),  # a typo is no name: the score decides
        ("Lê Thị Lan", "Lê Lan", "slip"),  # a word dropped: the score decides
        ("Lê Thị Lan", "LÊ  THỊ LAN", "same"),
        ("Ðặng Thu Hà", "Đặng Thu Hà", "same"),  # eth and đ are one letter
        (None, "Lê Lan", "same"),
    ],
)
def test_name_evidence(left, right, evidence):
    assert name_evidence(left, right) == evidence
    assert name_evidence(right, left) == evidence
    assert names_conflict(left, right) is (evidence == "two")


def test_fold():
    assert fold("Ðặng  Thị HOÀ") == "dang thi hoa"
