"""CSV for Excel, streamed: a UTF-8 BOM first (Excel opens UTF-8 CSV correctly only with
it), then one row at a time through csv.writer without a buffer."""

import csv
from collections.abc import Iterable, Iterator

BOM = "\ufeff"


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_stream(rows: Iterable[list[str]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield BOM
    for row in rows:
        yield writer.writerow(row)
