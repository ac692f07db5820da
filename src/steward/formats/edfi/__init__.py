"""Ed-Fi: Data Standard XML interchanges (5.x, 2.x where cheap) and API JSON resources as files.

``read_xml`` / ``read_resources`` give Ed-Fi entities; ``to_canonical`` turns them into canonical
records through the explicit descriptor tables of :mod:`steward.formats.edfi.descriptors`;
``ResourceWriter`` writes canonical records as API resources. XML is parsed hardened (no DTDs, no
entities, no network) and can be validated against the Data Standard's XSDs.
"""

from steward.formats.edfi.canonical import to_canonical
from steward.formats.edfi.model import EdFiData
from steward.formats.edfi.resources import RESOURCES, ResourceWriter, read_resources
from steward.formats.edfi.xml import XmlRefusedError, check_prolog, validate
from steward.formats.edfi.xml import read_directory as read_xml

__all__ = [
    "RESOURCES",
    "EdFiData",
    "ResourceWriter",
    "XmlRefusedError",
    "check_prolog",
    "read_resources",
    "read_xml",
    "to_canonical",
    "validate",
]
