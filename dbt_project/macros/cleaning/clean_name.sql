{#-
    A person's name as the civil records write it:
    - Unicode NFC (extracts come in NFC or NFD; Windows-1258 files carry tones as combining marks);
    - `Ð/ð` (U+00D0/U+00F0, Icelandic eth, found in some name lists) folded to `Đ/đ` (U+0110/U+0111);
    - spaces collapsed; each word capitalised (`NGUYỄN văn  an` -> `Nguyễn Văn An`);
    - civil-record tone placement: on the first vowel of oa, oe, uy when the pair ends the syllable
      (`Hoà` -> `Hòa`, `Thuý` -> `Thúy`, `Khoẻ` -> `Khỏe`). `Hoàn`, `Thuyền` (the pair does not end
      the syllable) and `Quý` (qu + y: the u belongs to the consonant) are left alone.

    How: the name is cut into runs of letters and runs of non-letters (RE2 `\pL+|\PL+`; `\b` would
    not do, it is ASCII-only in RE2 and sees a boundary inside `Thuý`). A letter run is a syllable:
    it is capitalised, and when its last two letters are an old-placement pair (`oà`, `uý`, ...),
    they are swapped for the civil one (a 30-entry map); `qu` + y keeps its placement. The runs are
    then joined again. (Not 30 nested regexp_replace calls: those exceed sqlfluff's parse depth.)
-#}
{% macro clean_name(column) -%}
    {%- set tones = {
        'a': ['à', 'á', 'ả', 'ã', 'ạ'],
        'e': ['è', 'é', 'ẻ', 'ẽ', 'ẹ'],
        'y': ['ỳ', 'ý', 'ỷ', 'ỹ', 'ỵ'],
        'o': ['ò', 'ó', 'ỏ', 'õ', 'ọ'],
        'O': ['Ò', 'Ó', 'Ỏ', 'Õ', 'Ọ'],
        'u': ['ù', 'ú', 'ủ', 'ũ', 'ụ'],
        'U': ['Ù', 'Ú', 'Ủ', 'Ũ', 'Ụ'],
    } -%}
    {%- set civil = {} -%}
    {%- for i in range(5) -%}
        {%- for first in ['o', 'O'] -%}
            {%- for second in ['a', 'e'] -%}
                {%- do civil.update({first ~ tones[second][i]: tones[first][i] ~ second}) -%}
            {%- endfor -%}
        {%- endfor -%}
        {%- for first in ['u', 'U'] -%}
            {%- do civil.update({first ~ tones['y'][i]: tones[first][i] ~ 'y'}) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- set capitalised = list_transform(
        regexp_extract_all(clean_text(column), "'\\pL+|\\PL+'"),
        'run',
        'upper(' ~ string_slice('run', 1, 1) ~ ') || lower(' ~ string_slice('run', 2) ~ ')'
    ) -%}
    {%- set civil_placed -%}
        case
            when {{ regexp_full_match('lower(right(syllable, 3))', "'qu.'") }} then syllable
            else coalesce(
                substr(syllable, 1, length(syllable) - 2)
                || {{ map_lookup(civil, 'right(syllable, 2)') }},
                syllable
            )
        end
    {%- endset -%}
    {{ list_join(list_transform(capitalised, 'syllable', civil_placed), "''") }}
{%- endmacro %}
