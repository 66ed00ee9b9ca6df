"""CSV rows with the line each starts on; a damaged quote is quarantined, not read through.

Python's csv module reads an unclosed quote as a field that runs on until the next quote
character anywhere in the file: the rows in between become text of that field, the quote that
should open a later row's field closes it instead, and from there quoting is inverted, so text
becomes ids and whole rows vanish without an error. It also names a row by its last line.

So rows are put together here from physical lines, following csv's quoting rules (a quote opens
a field only as its first character; inside, `""` is a literal quote), and a row is *damaged* when

- a quote closes a field but is followed by neither the delimiter nor the line's end (what an
  unclosed quote meeting the next row's opening quote looks like);
- a quoted field is still open at the end of the file, or has grown past the size bound.

A damaged row becomes one entry (`bad_csv`, the line it starts on, the lines it covers). Its
lines are held (at most the size bound), and reading starts again at the first of them, after
its own first line, that looks like the start of a row: an id-like first field (no spaces, at
most 64 characters) followed by the delimiter, and the header's number of fields (or fewer, with
a quoted field open at the line's end). A legitimate multi-line quoted field closes with a quote
followed by the delimiter or the line's end, so it stays one row. A complete row whose number of
fields differs from the header's is an entry too: its values would land in the wrong columns or
be dropped.
"""

from __future__ import annotations

import csv
import re
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Literal, TextIO

Line = tuple[int, str | None]  # (line number, text); None: a line over the size bound, skipped unread

_LINE_ENDS = ("\n", "\r")
_ID_LIKE = re.compile(r'("?)[^\s"]{1,64}\1')


@dataclass(frozen=True)
class CsvRow:
    """One row by the line it starts on: its values by column, or why it cannot be used."""

    line: int
    values: dict[str, str] | None = None
    reason: str = ""  # bad_csv or too_large when `values` is None
    detail: str = ""
    excerpt: str = ""


def text_lines(text: TextIO, max_chars: int) -> Iterator[Line]:
    """(line number, line) pairs of a stream opened with newline=""; a line over `max_chars` (its line end
    aside) is skipped in chunks, never held, and given as None.

    readline's size bound can cut a CRLF in two: reading two characters past the bound keeps every line
    that fits whole, and the LF left over after a skipped line's CR is not a line of its own (it would
    number every later line one too high)."""
    number, after_cr = 0, False
    while line := text.readline(max_chars + 2):
        if after_cr and line == "\n":
            after_cr = False
            continue
        number += 1
        if len(line.rstrip("\r\n")) <= max_chars:
            after_cr = False
            yield number, line
            continue
        while not line.endswith(_LINE_ENDS) and (chunk := text.readline(1 << 20)):
            line = chunk
        after_cr = line.endswith("\r")
        yield number, None


def scan_line(line: str, delimiter: str, in_quote: bool) -> tuple[Literal["closed", "open", "malformed"], int]:
    """Follow csv's quoting through one physical line that starts inside a quoted field or not.

    Returns whether the row ends with this line (`closed`), goes on inside a quoted field
    (`open`) or has a quote that closes a field and is not followed by the delimiter or the line's
    end (`malformed`), and how many delimiters outside quotes the line holds.
    """
    end = len(line.rstrip("\r\n"))
    pos = delimiters = 0
    while True:
        if in_quote:
            close = line.find('"', pos, end)
            if close < 0:
                return "open", delimiters
            if close + 1 < end and line[close + 1] == '"':
                pos = close + 2  # "" is a quote inside the field
                continue
            in_quote, pos = False, close + 1
            if pos >= end:
                return "closed", delimiters
            if line[pos] != delimiter:
                return "malformed", delimiters
            pos, delimiters = pos + 1, delimiters + 1
            continue
        if pos < end and line[pos] == '"':  # a quote opens a field only as its first character
            in_quote, pos = True, pos + 1
            continue
        following = line.find(delimiter, pos, end)
        if following < 0:
            return "closed", delimiters
        pos, delimiters = following + 1, delimiters + 1


class _RowReader:
    """Physical lines -> rows; damaged rows are reported and reading resumes past them (see the module doc)."""

    def __init__(self, lines: Iterable[Line], delimiter: str, max_chars: int):
        self.lines = iter(lines)
        self.delimiter = delimiter
        self.max_chars = max_chars
        self.again: deque[tuple[int, str]] = deque()  # held lines of a damaged row, to be read again
        self.header: list[str] | None = None

    def _next_line(self) -> Line | None:
        return self.again.popleft() if self.again else next(self.lines, None)

    def rows(self) -> Iterator[CsvRow]:
        held: list[tuple[int, str]] = []
        size, in_quote = 0, False
        while (item := self._next_line()) is not None:
            number, text = item
            if text is None:
                first = held[0][0] if held else number
                yield CsvRow(first, reason="too_large", detail=f"line {number} is over {self.max_chars} characters")
                held, size, in_quote = [], 0, False
                continue
            if not held and not text.strip():
                continue  # blank lines are not rows
            held.append((number, text))
            size += len(text)
            state, _ = scan_line(text, self.delimiter, in_quote)
            if state == "closed" and size <= self.max_chars:
                yield self._complete(held)
            elif state == "closed":
                yield CsvRow(held[0][0], reason="too_large", detail=f"row over {self.max_chars} characters")
            elif state == "malformed":
                yield self._damaged(held, f"a quote closes a field on line {number} but the delimiter does not follow")
            elif size > self.max_chars:
                yield self._damaged(held, f"a quoted field runs past {self.max_chars} characters")
            else:
                in_quote = True
                continue
            held, size, in_quote = [], 0, False
        if held:
            yield self._damaged(held, "a quoted field is still open at the end of the file")

    def _complete(self, held: list[tuple[int, str]]) -> CsvRow:
        first = held[0][0]
        text = "".join(t for _, t in held)
        try:
            fields = next(csv.reader([t for _, t in held], delimiter=self.delimiter, strict=True))
        except csv.Error as e:
            return CsvRow(first, reason="bad_csv", detail=str(e), excerpt=text)
        if self.header is None:
            self.header = fields
            return CsvRow(first)  # the header: no values, no reason
        if len(fields) != len(self.header):
            return CsvRow(first, reason="bad_csv", excerpt=text,
                          detail=f"{len(fields)} fields, the header has {len(self.header)}")
        return CsvRow(first, values=dict(zip(self.header, fields, strict=True)))

    def _damaged(self, held: list[tuple[int, str]], why: str) -> CsvRow:
        """One entry for a damaged row; its held lines from the first that starts a row are read again."""
        restart = next((i for i in range(1, len(held)) if self._starts_row(held[i][1])), len(held))
        self.again.extendleft(reversed(held[restart:]))
        damaged = held[:restart]
        span = f"line {damaged[0][0]}" if len(damaged) == 1 else f"lines {damaged[0][0]}-{damaged[-1][0]}"
        return CsvRow(damaged[0][0], reason="bad_csv", detail=f"{why} ({span})",
                      excerpt="".join(t for _, t in damaged))

    def _starts_row(self, text: str) -> bool:
        """An id-like first field, then the delimiter, and the header's number of fields (or fewer, still open)."""
        if self.header is None:
            return False  # a damaged header: nothing after it can be read by column
        first, delimiter, _ = text.partition(self.delimiter)
        if not delimiter or not _ID_LIKE.fullmatch(first):
            return False
        state, delimiters = scan_line(text, self.delimiter, in_quote=False)
        columns = len(self.header)
        return (state == "closed" and delimiters + 1 == columns) or (state == "open" and delimiters + 1 <= columns)


def csv_rows(lines: Iterable[Line], delimiter: str, max_chars: int) -> Iterator[CsvRow]:
    """The rows after the header, each with the line it starts on: values by column, or a reason.

    A damaged header ends the file in one entry: no later row could be read by column.
    """
    reader = _RowReader(lines, delimiter, max_chars)
    for row in reader.rows():
        if reader.header is None:  # only a damaged row comes before the header
            yield CsvRow(row.line, reason=row.reason, detail=f"the header row: {row.detail}", excerpt=row.excerpt)
            return
        if row.values is None and not row.reason:
            continue  # the header itself
        yield row
