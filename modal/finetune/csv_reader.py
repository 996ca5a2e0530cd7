"""Streaming CSV reader for large, slightly messy conversation files.

The reader keeps one record in memory at a time, so a 680 MB file costs no more than its
largest row. It handles quoted cells with embedded newlines, CRLF line ends, a UTF-8 byte
order mark, and very long cells. Lines that are not valid UTF-8 are decoded as
Windows-1252 and reported by row number. Cell text is returned as written: NA, None,
null and N/A stay strings.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

UTF8_BOM = b"\xef\xbb\xbf"
# Python's csv module stops at 128 KiB per field by default; real cells are larger.
FIELD_SIZE_LIMIT = 2**31 - 1
# Row numbers listed in one warning before the rest are only counted.
MAX_LISTED_ROWS = 20
_FALLBACK_ERRORS = "tunedeck-windows-1252"


class CsvFormatError(ValueError):
    """A CSV file that cannot be read at all (missing, empty or without a usable header)."""


@dataclass(frozen=True)
class CsvRow:
    """One data row: its 1-based number after the header, first file line and cells."""

    number: int
    line: int
    values: dict[str, str]


@dataclass
class _RowList:
    """Row numbers for one kind of warning, listing the first MAX_LISTED_ROWS."""

    numbers: list[int] = field(default_factory=list)
    count: int = 0

    def add(self, number: int) -> None:
        self.count += 1
        if len(self.numbers) < MAX_LISTED_ROWS:
            self.numbers.append(number)

    def describe(self) -> str:
        listed = ", ".join(str(number) for number in self.numbers)
        if self.count > len(self.numbers):
            listed += f" and {self.count - len(self.numbers)} more"
        return listed


class CsvReader:
    """Iterate over the data rows of a CSV file as `CsvRow`s.

    Use it as a context manager, read `columns` for the header and, after iterating,
    `warnings`, `rows_read` and `malformed_rows`. Rows whose cell count differs from the
    header's are skipped and counted in `malformed_rows`. Blank lines are ignored.
    """

    def __init__(self, path: str | Path, *, max_rows: int | None = None) -> None:
        self.path = Path(path)
        self.max_rows = max_rows
        self.rows_read = 0
        self.malformed_rows = 0
        self._fallback_rows = _RowList()
        self._malformed_notes: list[str] = []
        self._line_is_fallback = False
        self._physical_line = 0
        csv.field_size_limit(FIELD_SIZE_LIMIT)

        try:
            self._file: BinaryIO = self.path.open("rb")
        except FileNotFoundError as exc:
            raise CsvFormatError(f"CSV file not found: {self.path}") from exc
        except OSError as exc:
            raise CsvFormatError(f"failed to open CSV file {self.path}: {exc}") from exc

        self._records = csv.reader(self._decoded_lines())
        try:
            header = next(self._records)
        except StopIteration:
            self.close()
            raise CsvFormatError(f"CSV file {self.path} is empty: expected a header row") from None
        self._header_was_fallback = self._line_is_fallback
        self.columns = [name.strip() for name in header]
        self._check_header()

    def __enter__(self) -> CsvReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._file.close()

    @property
    def warnings(self) -> list[str]:
        """Human-readable warnings about decoding and malformed rows, so far."""
        messages = []
        if self._header_was_fallback:
            messages.append("header contains bytes that are not valid UTF-8, decoded as Windows-1252")
        if self._fallback_rows.count:
            count = self._fallback_rows.count
            noun = "row contains" if count == 1 else "rows contain"
            messages.append(
                f"{count} {noun} bytes that are not valid UTF-8, decoded as Windows-1252: "
                f"{'row' if count == 1 else 'rows'} {self._fallback_rows.describe()}"
            )
        messages.extend(self._malformed_notes)
        if self.malformed_rows > len(self._malformed_notes):
            hidden = self.malformed_rows - len(self._malformed_notes)
            messages.append(f"{hidden} more rows with the wrong number of cells were skipped")
        return messages

    def __iter__(self) -> Iterator[CsvRow]:
        width = len(self.columns)
        while self.max_rows is None or self.rows_read < self.max_rows:
            first_line = self._physical_line + 1
            self._line_is_fallback = False
            try:
                cells = next(self._records)
            except StopIteration:
                return
            except csv.Error as exc:
                raise CsvFormatError(
                    f"CSV file {self.path} is invalid at row {self.rows_read + 1} "
                    f"(line {first_line}): {exc}"
                ) from exc
            if not cells:
                continue

            self.rows_read += 1
            number = self.rows_read
            if self._line_is_fallback:
                self._fallback_rows.add(number)
            if len(cells) != width:
                self._note_malformed(number, first_line, len(cells))
                continue

            values = {
                name: cell.replace("\r\n", "\n") for name, cell in zip(self.columns, cells)
            }
            yield CsvRow(number=number, line=first_line, values=values)

    def _decoded_lines(self) -> Iterator[str]:
        for raw in self._file:
            self._physical_line += 1
            if self._physical_line == 1 and raw.startswith(UTF8_BOM):
                raw = raw[len(UTF8_BOM) :]
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError:
                # Valid UTF-8 sequences in the line stay UTF-8; only the invalid bytes
                # are read as Windows-1252, so "café" next to a 0x92 quote survives.
                self._line_is_fallback = True
                yield raw.decode("utf-8", errors=_FALLBACK_ERRORS)

    def _check_header(self) -> None:
        if not any(self.columns):
            self.close()
            raise CsvFormatError(f"CSV file {self.path} has an empty header row")
        seen: set[str] = set()
        duplicates = sorted({name for name in self.columns if name in seen or seen.add(name)})
        if duplicates:
            self.close()
            raise CsvFormatError(
                f"CSV file {self.path} has duplicate column names {duplicates}: "
                "rename them so each column is unique"
            )

    def _note_malformed(self, number: int, first_line: int, cell_count: int) -> None:
        self.malformed_rows += 1
        if len(self._malformed_notes) >= MAX_LISTED_ROWS:
            return
        note = (
            f"row {number} (line {first_line}) has {cell_count} cells, expected "
            f"{len(self.columns)}; skipped"
        )
        if cell_count < len(self.columns) and self._physical_line - first_line > 0:
            note += " (an unclosed quote may have joined the lines after it)"
        self._malformed_notes.append(note)


@dataclass
class CsvTable:
    """A whole CSV file in memory; use CsvReader directly for large files."""

    columns: list[str]
    rows: list[dict[str, str]]
    warnings: list[str]
    rows_read: int
    malformed_rows: int


def read_csv(path: str | Path, *, max_rows: int | None = None) -> CsvTable:
    """Read a CSV file into memory: header, row dicts and warnings."""
    with CsvReader(path, max_rows=max_rows) as reader:
        rows = [row.values for row in reader]
        return CsvTable(
            columns=reader.columns,
            rows=rows,
            warnings=reader.warnings,
            rows_read=reader.rows_read,
            malformed_rows=reader.malformed_rows,
        )


def _decode_invalid_as_windows_1252(error: UnicodeError) -> tuple[str, int]:
    # Windows-1252 leaves 0x81, 0x8D, 0x8F, 0x90 and 0x9D undefined. Those bytes decode
    # as the Latin-1 control characters of the same value, so no byte is lost.
    if not isinstance(error, UnicodeDecodeError):
        raise error
    text = []
    for byte in error.object[error.start : error.end]:
        single = bytes([byte])
        try:
            text.append(single.decode("cp1252"))
        except UnicodeDecodeError:
            text.append(single.decode("latin-1"))
    return "".join(text), error.end


codecs.register_error(_FALLBACK_ERRORS, _decode_invalid_as_windows_1252)
