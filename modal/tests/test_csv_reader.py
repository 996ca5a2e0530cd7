import csv

import pytest

from finetune.csv_reader import CsvFormatError, CsvReader, read_csv


def write_bytes(tmp_path, content: bytes, name="data.csv"):
    path = tmp_path / name
    path.write_bytes(content)
    return path


def test_quoted_multiline_cell_stays_one_row(tmp_path):
    itinerary = "Day 1: Lisbon, Alfama walk\nDay 2: Sintra palaces\nDay 3: Cascais beach"
    path = write_bytes(
        tmp_path,
        ('question,answer\n"Plan three days near Lisbon?","' + itinerary + '"\nnext,row\n').encode(),
    )

    table = read_csv(path)

    assert table.rows_read == 2
    assert table.rows[0]["answer"] == itinerary
    assert table.rows[0]["answer"].count("\n") == 2
    assert table.rows[1] == {"question": "next", "answer": "row"}
    assert table.warnings == []


def test_crlf_file_with_embedded_newlines(tmp_path):
    content = b'question,answer\r\n"Where to eat?","Try:\r\n- Time Out Market\r\n- Ramiro"\r\nq2,a2\r\n'
    path = write_bytes(tmp_path, content)

    table = read_csv(path)

    assert table.columns == ["question", "answer"]
    assert table.rows[0]["answer"] == "Try:\n- Time Out Market\n- Ramiro"
    assert table.rows[1] == {"question": "q2", "answer": "a2"}


def test_bom_before_quoted_header(tmp_path):
    path = write_bytes(tmp_path, b'\xef\xbb\xbf"data_type","source"\r\n"train","dolly"\r\n')

    table = read_csv(path)

    assert table.columns == ["data_type", "source"]
    assert table.rows == [{"data_type": "train", "source": "dolly"}]


def test_null_like_texts_kept(tmp_path):
    path = write_bytes(tmp_path, b"question,answer\nNA,None\nnull,N/A\n,\n")

    table = read_csv(path)

    assert table.rows == [
        {"question": "NA", "answer": "None"},
        {"question": "null", "answer": "N/A"},
        {"question": "", "answer": ""},
    ]


def test_windows_1252_rows_decoded_and_reported(tmp_path):
    content = (
        "question,answer\n".encode()
        + "Caf\u00e9 in Paris?,Yes \u2014 try Le Procope\n".encode()
        + b"Best time?,It\x92s spring\n"
        + b"Budget?,\xa0About 80 euros a day\n"
        + b'"Long one?","line one\nline two with \x92 quote"\n'
        + "Last?,Caf\u00e9 \u00e9t\u00e9 ok\n".encode()
    )
    path = write_bytes(tmp_path, content)

    table = read_csv(path)

    assert table.rows_read == 5
    assert len(table.rows) == 5
    assert table.rows[0]["answer"] == "Yes \u2014 try Le Procope"
    assert table.rows[1]["answer"] == "It\u2019s spring"
    assert table.rows[2]["answer"] == "\u00a0About 80 euros a day"
    assert table.rows[3]["answer"] == "line one\nline two with \u2019 quote"
    assert table.rows[4]["answer"] == "Caf\u00e9 \u00e9t\u00e9 ok"
    assert table.warnings == [
        "3 rows contain bytes that are not valid UTF-8, decoded as Windows-1252: rows 2, 3, 4"
    ]


def test_mixed_line_keeps_valid_utf8(tmp_path):
    path = write_bytes(tmp_path, b"question,answer\nq,caf\xc3\xa9 isn\x92t open\n")

    table = read_csv(path)

    assert table.rows[0]["answer"] == "caf\u00e9 isn\u2019t open"


def test_undefined_windows_1252_byte_kept(tmp_path):
    path = write_bytes(tmp_path, b"question,answer\nq,odd \x81 byte\n")

    table = read_csv(path)

    assert table.rows[0]["answer"] == "odd \x81 byte"
    assert table.warnings == [
        "1 row contains bytes that are not valid UTF-8, decoded as Windows-1252: row 1"
    ]


def test_very_long_cell(tmp_path):
    long_text = "x" * 1_000_000  # the csv module default limit is 131,072
    path = write_bytes(tmp_path, f'question,answer\nq,"{long_text}"\n'.encode())

    table = read_csv(path)

    assert len(table.rows[0]["answer"]) == len(long_text)


def test_wrong_cell_count_skipped_with_row_number(tmp_path):
    path = write_bytes(tmp_path, b"a,b,c\n1,2,3\n4,5\n6,7,8,9\n10,11,12\n")

    table = read_csv(path)

    assert table.rows == [{"a": "1", "b": "2", "c": "3"}, {"a": "10", "b": "11", "c": "12"}]
    assert table.rows_read == 4
    assert table.malformed_rows == 2
    assert table.warnings == [
        "row 2 (line 3) has 2 cells, expected 3; skipped",
        "row 3 (line 4) has 4 cells, expected 3; skipped",
    ]


def test_unclosed_quote_reported(tmp_path):
    path = write_bytes(tmp_path, b'a,b,c\n1,2,3\n4,"5,6\n7,8,9\n10,11,12\n')

    table = read_csv(path)

    assert len(table.rows) == 1
    assert table.malformed_rows == 1
    assert table.warnings == [
        "row 2 (line 3) has 2 cells, expected 3; skipped "
        "(an unclosed quote may have joined the lines after it)"
    ]


def test_blank_lines_ignored(tmp_path):
    path = write_bytes(tmp_path, b"a,b\n\n1,2\n\n\n3,4\n")

    with CsvReader(path) as reader:
        rows = list(reader)

    assert [row.values for row in rows] == [{"a": "1", "b": "2"}, {"a": "3", "b": "4"}]
    assert [row.number for row in rows] == [1, 2]
    assert [row.line for row in rows] == [3, 6]


def test_row_line_numbers_count_embedded_newlines(tmp_path):
    path = write_bytes(tmp_path, b'a,b\n"x\ny\nz",1\nlast,2\n')

    with CsvReader(path) as reader:
        rows = list(reader)

    assert [row.line for row in rows] == [2, 5]


def test_max_rows_stops_early(tmp_path):
    path = write_bytes(tmp_path, b"a,b\n1,2\n3,4\n5,6\n")

    table = read_csv(path, max_rows=2)

    assert table.rows_read == 2
    assert table.rows == [{"a": "1", "b": "2"}, {"a": "3", "b": "4"}]


def test_streams_without_loading_file(tmp_path):
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["question", "answer"])
        for index in range(20_000):
            writer.writerow([f"q{index}", f"line one {index}\nline two"])

    with CsvReader(path) as reader:
        iterator = iter(reader)
        first = next(iterator)
        position_after_first = reader._file.tell()
        remaining = sum(1 for _ in iterator)

    assert first.values["question"] == "q0"
    assert position_after_first < path.stat().st_size // 10
    assert remaining == 19_999


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty: expected a header row"),
        (b",,\n1,2,3\n", "has an empty header row"),
        (b"a,b,a\n1,2,3\n", "has duplicate column names ['a']: rename them so each column is unique"),
    ],
)
def test_unusable_header_rejected(tmp_path, content, message):
    path = write_bytes(tmp_path, content)

    with pytest.raises(CsvFormatError) as caught:
        read_csv(path)

    assert str(caught.value) == f"CSV file {path} {message}"


def test_missing_file(tmp_path):
    with pytest.raises(CsvFormatError) as caught:
        read_csv(tmp_path / "absent.csv")

    assert str(caught.value) == f"CSV file not found: {tmp_path / 'absent.csv'}"
