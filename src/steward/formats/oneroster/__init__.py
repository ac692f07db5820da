"""OneRoster 1.1/1.2 CSV packages: reading (strict or lenient), conformance, canonical mapping, writing.

``read_package`` checks every file; ``check_package`` adds the cross-file rules; ``to_canonical``
turns a package into canonical records; ``PackageWriter`` writes canonical records as a bulk 1.2
package. docs/formats.md lists what maps to what and what is dropped.
"""

from steward.formats.oneroster.canonical import to_canonical
from steward.formats.oneroster.conformance import check_directory, check_package
from steward.formats.oneroster.reader import Package, Table, read_package
from steward.formats.oneroster.spec import FILES, Mode, Version
from steward.formats.oneroster.writer import (
    DROPPED_FIELDS,
    DROPPED_RECORDS,
    ROSTER_FILES,
    SCHEDULE_FILES,
    PackageWriter,
    write_tables,
)

__all__ = [
    "DROPPED_FIELDS",
    "DROPPED_RECORDS",
    "FILES",
    "ROSTER_FILES",
    "SCHEDULE_FILES",
    "Mode",
    "Package",
    "PackageWriter",
    "Table",
    "Version",
    "check_directory",
    "check_package",
    "read_package",
    "to_canonical",
    "write_tables",
]
