"""Notifications: in-app rows written in the action's transaction; e-mails sent afterwards over
SMTP to a local sink, each once."""

from __future__ import annotations

from sqlalchemy import Engine, select

from steward.config import Settings
from steward.store.db import transaction
from steward.workflow.notifications import mailer
from steward.workflow.notifications.models import Notification
from steward.workflow.notifications.service import Message, inbox, mark_read, notify, unread_count
from tests.workflow.conftest import SmtpSink, World


def test_notify_once_send_once_and_read(sqlite_engine: Engine, sqlite_world: World, smtp: SmtpSink) -> None:
    w = sqlite_world
    partner = w.p("partner").person_id
    with transaction(sqlite_engine) as db:
        note = Message("request.question", "a question", "Which grades?", "/requests/DR-1")
        assert len(notify(db, [partner, partner], note, dedupe_key="q1")) == 1
        assert notify(db, [partner], note, dedupe_key="q1") == []
    settings = Settings(database_url=str(sqlite_engine.url), smtp_host="127.0.0.1", smtp_port=smtp.port)
    result = mailer.send_pending(sqlite_engine, settings)
    assert (result.sent, result.failed) == (1, 0)
    assert mailer.send_pending(sqlite_engine, settings).sent == 0
    [message] = smtp.messages
    assert message["To"] == "partner@example.org"
    assert message["Subject"] == "[Steward] a question"
    assert "/requests/DR-1" in message.get_payload()
    with transaction(sqlite_engine) as db:
        assert unread_count(db, partner) == 1
        assert [n.subject for n in inbox(db, partner)] == ["a question"]
        assert mark_read(db, partner) == 1
        assert unread_count(db, partner) == 0


def test_without_smtp_host_mail_is_skipped_and_failures_retry(
    sqlite_engine: Engine, sqlite_world: World
) -> None:
    w = sqlite_world
    with transaction(sqlite_engine) as db:
        notify(db, [w.p("officer").person_id], Message("x", "s", "b"))
    assert mailer.send_pending(sqlite_engine, Settings(database_url=str(sqlite_engine.url))).skipped == 1
    with transaction(sqlite_engine) as db:
        notify(db, [w.p("officer").person_id], Message("y", "s", "b"))
    broken = Settings(database_url=str(sqlite_engine.url), smtp_host="127.0.0.1", smtp_port=1, smtp_timeout=1)
    assert mailer.send_pending(sqlite_engine, broken).failed == 1
    with transaction(sqlite_engine) as db:
        row = db.scalar(select(Notification).where(Notification.kind == "y"))
        assert row is not None
        assert row.email_status == "pending"
        assert row.email_attempts == 1
