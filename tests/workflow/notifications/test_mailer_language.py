"""The e-mail wrapper (link line and signature) is in the recipient's remembered language."""

from __future__ import annotations

from email.message import EmailMessage
from email.message import Message as LegacyMessage

from sqlalchemy import Engine

from steward.config import Settings
from steward.family.common import remember
from steward.store.db import transaction
from steward.workflow.notifications import mailer
from steward.workflow.notifications.models import Notification
from steward.workflow.notifications.service import Message, notify
from tests.workflow.conftest import SmtpSink, World


def _text(message: EmailMessage | LegacyMessage) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode("utf-8")


def test_the_wrapper_follows_the_recipients_language(
    sqlite_engine: Engine, sqlite_world: World, smtp: SmtpSink
) -> None:
    w = sqlite_world
    spanish, english = w.p("partner").person_id, w.p("officer").person_id
    with transaction(sqlite_engine) as db:
        remember(db, spanish, "es")
        notify(db, [spanish, english], Message("family.test", "asunto", "cuerpo", "/family"))
        assert mailer.recipient_language(db, spanish) == "es"
        assert mailer.recipient_language(db, english) == "en"
    settings = Settings(database_url=str(sqlite_engine.url), smtp_host="127.0.0.1", smtp_port=smtp.port)
    assert mailer.send_pending(sqlite_engine, settings).sent == 2
    bodies = {str(m["To"]): _text(m) for m in smtp.messages}
    es = bodies["partner@example.org"]
    assert "Abrir en Steward: " in es
    assert "/family" in es
    assert "Steward: cada entrega de datos se decide, se explica y se registra." in es
    assert "Open in Steward" not in es
    en = bodies["officer@example.org"]
    assert "Open in Steward: " in en
    assert "Steward: every disclosure decided, explained and recorded." in en


def test_compose_without_a_language_is_english() -> None:
    note = Notification(person_id=1, kind="k", subject="s", body="b", link="/x", email_to="a@example.org")
    text = _text(mailer.compose(note, Settings()))
    assert "Open in Steward: " in text
