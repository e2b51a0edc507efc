"""A pack may name the tasks table's ORM model (`[tasks] model`), by class name or a glob
over the qualified name, with no table; without it, a Django model whose default table
name (`<app_label>_<model>`) is the pack's table is the tasks model. Judged alike with
the pre-filter and without. The pack's guarded state is the text the column stores."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.cli import run_cli, run_json

MODEL_PACK = """\
[tasks]
model = "{model}"
status = "state"
guarded = "active"

[lint]
sanctioned = ["grab"]
"""

MODELS = """\
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Ticket(Base):
    __tablename__ = "desk_tickets"
    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[str]


class Order(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[str]
"""

SERVICE = """\
from desk.models import Order, Ticket


def grab(session, ticket_id):
    ticket = session.get(Ticket, ticket_id)
    ticket.state = "active"


def reopen(session, ticket_id):
    ticket = session.get(Ticket, ticket_id)
    ticket.state = "active"


def close(session, ticket_id):
    ticket = session.get(Ticket, ticket_id)
    ticket.state = "closed"


def order(session, order_id):
    session.get(Order, order_id).state = "active"
"""

DJANGO_PACK = """\
[tasks]
table = "desk_ticket"
status = "state"
guarded = "active"
"""

DJANGO_MODELS = """\
from django.db import models


class Ticket(models.Model):
    state = models.CharField(max_length=20)


class Order(models.Model):
    state = models.CharField(max_length=20)
"""

DJANGO_VIEWS = """\
from desk.models import Order, Ticket


def reopen(pk):
    Ticket.objects.filter(pk=pk).update(state="active")


def order(pk):
    Order.objects.filter(pk=pk).update(state="active")
"""


def _project(root: Path, pack: str, models: str, service: str) -> Path:
    (root / "pack.toml").write_text(pack)
    package = root / "desk"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "models.py").write_text(models)
    (package / "service.py").write_text(service)
    return root


def _found(root: Path, *options: str) -> list[tuple[str, str, int]]:
    _, report = run_json("lint", "--rules", "pack.toml", "--no-cache", *options, cwd=root)
    return [(f["code"], f["path"], f["line"]) for f in report["findings"]]


@pytest.mark.parametrize("model", ["Ticket", "*.models.Ticket", "desk.models.Tick?t"])
@pytest.mark.parametrize("prefilter", [(), ("--no-prefilter",)])
def test_the_model_key_names_the_tasks_model(
    tmp_path: Path, model: str, prefilter: tuple[str, ...]
) -> None:
    root = _project(tmp_path, MODEL_PACK.format(model=model), MODELS, SERVICE)
    # reopen() outside the claim path; grab() is sanctioned, close() is safe, Order is
    # another model.
    assert _found(root, *prefilter) == [("KA001", "desk/service.py", 11)]


def test_a_model_that_matches_no_class_finds_nothing(tmp_path: Path) -> None:
    root = _project(tmp_path, MODEL_PACK.format(model="Invoice"), MODELS, SERVICE)
    assert _found(root) == []


@pytest.mark.parametrize("prefilter", [(), ("--no-prefilter",)])
def test_a_django_default_table_name_is_the_tasks_table(
    tmp_path: Path, prefilter: tuple[str, ...]
) -> None:
    root = _project(tmp_path, DJANGO_PACK, DJANGO_MODELS, DJANGO_VIEWS)
    assert _found(root, *prefilter) == [("KA001", "desk/service.py", 5)]


def test_the_auditor_needs_the_table_a_model_pack_lacks(tmp_path: Path) -> None:
    root = _project(tmp_path, MODEL_PACK.format(model="Ticket"), MODELS, SERVICE)
    (root / "board.db").write_bytes(b"")
    proc = run_cli("audit", "--rules", "pack.toml", "board.db", cwd=root)
    assert proc.returncode == 2
    assert "needs the name of the tasks table" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_a_pack_without_table_or_model_is_refused(tmp_path: Path) -> None:
    pack = MODEL_PACK.format(model="Ticket").replace('model = "Ticket"\n', "")
    root = _project(tmp_path, pack, MODELS, SERVICE)
    proc = run_cli("lint", "--rules", "pack.toml", "--no-cache", cwd=root)
    assert proc.returncode == 2
    assert "missing key 'table' (or the ORM 'model')" in proc.stderr


ENUM_MODELS = """\
import enum

from sqlalchemy import Column, Enum, Integer
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class State(str, enum.Enum):
    OPEN = "open"
    ACTIVE = "active"


class Ticket(Base):
    __tablename__ = "desk_tickets"
    id = Column(Integer, primary_key=True)
    state = Column(Enum(State{options}), default=State.OPEN)
"""

ENUM_SERVICE = """\
from desk.models import State, Ticket


def reopen(session, ticket_id):
    session.get(Ticket, ticket_id).state = State.ACTIVE
"""


@pytest.mark.parametrize(
    ("options", "guarded", "found"),
    [
        ("", "ACTIVE", [("KA001", "desk/service.py", 5)]),
        ("", "active", []),
        (
            ", values_callable=lambda e: [m.value for m in e]",
            "active",
            [("KA001", "desk/service.py", 5)],
        ),
        (", values_callable=lambda e: [m.value for m in e]", "ACTIVE", []),
    ],
)
def test_guarded_is_the_text_an_enum_column_stores(
    tmp_path: Path, options: str, guarded: str, found: list[tuple[str, str, int]]
) -> None:
    """SQLAlchemy's Enum over a Python Enum class stores the member's name, unless
    values_callable gives the values: the pack names the stored text."""
    pack = MODEL_PACK.format(model="Ticket").replace('"active"', f'"{guarded}"')
    root = _project(tmp_path, pack, ENUM_MODELS.format(options=options), ENUM_SERVICE)
    assert _found(root) == found


SUBCLASS_MODELS = DJANGO_MODELS.replace("class Ticket(", "class Job(")

SUBCLASS_SERVICE = """\
from django.db import models

from desk.models import Job, Order


class NightlyJob(Job):
    hour = models.IntegerField()


class RushOrder(Order):
    fee = models.IntegerField()


def start_nightly(pk):
    NightlyJob.objects.filter(pk=pk).update(state="active")


def start_one(pk):
    job = NightlyJob.objects.get(pk=pk)
    job.state = "active"
    job.save()


def finish_nightly(pk):
    NightlyJob.objects.filter(pk=pk).update(state="done")


def rush(pk):
    RushOrder.objects.filter(pk=pk).update(state="active")
"""


@pytest.mark.parametrize("prefilter", [(), ("--no-prefilter",)])
def test_a_subclass_of_the_tasks_model_writes_its_table(
    tmp_path: Path, prefilter: tuple[str, ...]
) -> None:
    """Django's multi-table inheritance (as SQLAlchemy's joined and single-table
    inheritance) keeps an inherited field in the base model's table."""
    pack = MODEL_PACK.format(model="Job")
    root = _project(tmp_path, pack, SUBCLASS_MODELS, SUBCLASS_SERVICE)
    assert _found(root, *prefilter) == [
        ("KA001", "desk/service.py", 15),
        ("KA001", "desk/service.py", 20),
    ]
