"""CEDARS-shaped file drops: layouts, streaming readers and writers, drop validation.

A drop is one directory per district holding ``{CountyDistrictCode}_0000_{FileName}_{YYYYMMDD}.txt``
files without header rows, values separated by a configurable delimiter (tab by default). See
docs/cedars.md for the layouts and the assumptions to verify against the OSPI manual.
"""

from steward.formats.cedars.errors import CedarsError, CedarsWriteError
from steward.formats.cedars.layouts import (
    FILES,
    FILES_BY_NAME,
    FILES_BY_PREFIX,
    FILES_BY_RECORD,
    REQUIRED_PREFIXES,
    DropFileName,
    ElementSpec,
    ElementType,
    FileSpec,
    Requirement,
    build_file_name,
    parse_file_name,
    spec_for,
)
from steward.formats.cedars.reader import (
    Drop,
    DropFile,
    DropReport,
    FileReader,
    FileReport,
    read_file,
    validate_drop,
)
from steward.formats.cedars.writer import (
    DEFAULT_DELIMITER,
    DropWriter,
    FileWriter,
    check_delimiter,
    write_file,
)

__all__ = [
    "DEFAULT_DELIMITER",
    "FILES",
    "FILES_BY_NAME",
    "FILES_BY_PREFIX",
    "FILES_BY_RECORD",
    "REQUIRED_PREFIXES",
    "CedarsError",
    "CedarsWriteError",
    "Drop",
    "DropFile",
    "DropFileName",
    "DropReport",
    "DropWriter",
    "ElementSpec",
    "ElementType",
    "FileReader",
    "FileReport",
    "FileSpec",
    "FileWriter",
    "Requirement",
    "build_file_name",
    "check_delimiter",
    "parse_file_name",
    "read_file",
    "spec_for",
    "validate_drop",
    "write_file",
]
