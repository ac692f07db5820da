"""XML from outside is parsed without DTDs, entities or network access, whatever the encoding."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from steward.formats.edfi import read_xml, validate
from steward.formats.report import ConversionReport

SRC = Path(__file__).resolve().parents[2] / "src" / "steward"
SECRET = "steward-xxe-canary-9d2e"
BODY = (
    '<InterchangeStudent xmlns="http://ed-fi.org/5.2.0"><Student><StudentUniqueId>&e;</StudentUniqueId>'
    "<Name><FirstName>A</FirstName><LastSurname>B</LastSurname></Name>"
    "<BirthData><BirthDate>2010-01-01</BirthDate></BirthData></Student></InterchangeStudent>"
)


class _Hits(BaseHTTPRequestHandler):
    hits: list[str] = []  # noqa: RUF012

    def do_GET(self) -> None:
        _Hits.hits.append(self.path)
        payload = f'<!ENTITY e "{SECRET}">'.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def listener() -> Iterator[tuple[str, list[str]]]:
    """A web server on 127.0.0.1 that counts every fetch (an XXE that reached the network)."""
    server = HTTPServer(("127.0.0.1", 0), _Hits)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", _Hits.hits
    finally:
        server.shutdown()
        server.server_close()


def _payloads(secret_file: Path, url: str) -> dict[str, bytes]:
    return {
        "file entity": f'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file://{secret_file}">]>{BODY}'.encode(),
        "network dtd": f'<?xml version="1.0"?><!DOCTYPE x SYSTEM "{url}/evil.dtd">{BODY}'.encode(),
        "parameter entity": (
            f'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY % p SYSTEM "{url}/p.dtd"> %p;]>{BODY}'
        ).encode(),
        "utf-16 doctype": (
            f'<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x [<!ENTITY e SYSTEM "file://{secret_file}">]>{BODY}'
        ).encode("utf-16"),
        "xinclude": (
            '<InterchangeStudent xmlns="http://ed-fi.org/5.2.0" xmlns:xi="http://www.w3.org/2001/XInclude">'
            f'<Student><StudentUniqueId><xi:include href="file://{secret_file}" parse="text"/>'
            "</StudentUniqueId>"
            "</Student></InterchangeStudent>"
        ).encode(),
        "entity after a comment": (
            f'<?xml version="1.0"?><!-- hello --><!DOCTYPE x [<!ENTITY e SYSTEM "file://{secret_file}">]>{BODY}'
        ).encode(),
    }


@pytest.mark.parametrize(
    "name",
    [
        "file entity",
        "network dtd",
        "parameter entity",
        "utf-16 doctype",
        "xinclude",
        "entity after a comment",
    ],
)
def test_hostile_documents_leak_nothing(tmp_path: Path, listener: tuple[str, list[str]], name: str) -> None:
    url, hits = listener
    secret_file = tmp_path / "secret.txt"
    secret_file.write_text(SECRET)
    folder = tmp_path / "in"
    folder.mkdir()
    doc = folder / "Student.xml"
    doc.write_bytes(_payloads(secret_file, url)[name])
    before = len(hits)
    data, report = read_xml(folder)
    assert SECRET not in repr(data)
    assert SECRET not in " ".join(str(e) for e in report.errors)
    schema_report = ConversionReport()
    validate(doc, folder, schema_report)
    assert SECRET not in " ".join(str(e) for e in schema_report.errors)
    assert len(hits) == before, "the parser fetched something over the network"
    if name != "xinclude":
        assert report.errors, "a document declaring a DOCTYPE must be refused"


def test_every_xml_parser_in_the_code_is_hardened() -> None:
    """Any module that parses XML uses lxml with entities, DTDs and network off (or defusedxml)."""
    parsing = re.compile(
        r"\b(etree\.(parse|fromstring|iterparse|XML|XMLParser)|minidom|xml\.sax|ElementTree)\b"
    )
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        source = path.read_text()
        code = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith("#"))
        if not parsing.search(code):
            continue
        hardened = "defusedxml" in source or all(
            flag in source
            for flag in ('"resolve_entities": False', '"no_network": True', '"load_dtd": False')
        )
        if not hardened or re.search(r"\bxml\.etree\b|\bminidom\b|\bxml\.sax\b", code):
            offenders.append(str(path.relative_to(SRC)))
    assert offenders == []
