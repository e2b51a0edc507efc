"""ORM models kept as data: how SQLAlchemy (ORM and Core), SQLModel, Django and peewee
write a model's fields, which calls produce a query or an instance of a model, how a
class names its table, and what bounds a field's values.

The recognisers (summarize/writes.py) read the write methods to turn calls into
sinks; the solver (solve/ormmodels.py) reads the rest to tell which class a write
is about and which values its status field can hold. A library spelling more is
an entry more here, not a branch in the engine.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class WriteMethod:
    """Where a write method's data is: its keywords are fields (`create(status=...)`),
    a positional argument is a record (`update({...})`) or a sequence of them
    (`rows`), a keyword holds a record (`defaults=`)."""

    keywords: bool = False
    position: int = -1
    rows: bool = False
    record_keywords: tuple[str, ...] = ()
    # Only on a statement built by update()/insert(): Django's QuerySet.values() reads.
    statement_only: bool = False
    # Called on the model class itself: a receiver not known here is no tasks model
    # (`schema.model_validate(...)` on any pydantic class).
    on_class: bool = False
    # The argument that names the model, when not the receiver: (Model, rows).
    model_position: int = -1


WRITE_METHODS: dict[str, WriteMethod] = {
    # SQLAlchemy Core and ORM: insert(Task).values(...), update(Task).values(...)
    "values": WriteMethod(keywords=True, position=0, statement_only=True),
    # session.query(Task).update({...}), Django QuerySet.update(status=...),
    # peewee Task.update(status=...) / Task.update({Task.status: ...})
    "update": WriteMethod(keywords=True, position=0),
    "aupdate": WriteMethod(keywords=True),
    # Django Manager.create(...), peewee Model.create(...)
    "create": WriteMethod(keywords=True),
    "acreate": WriteMethod(keywords=True),
    # Django: the lookups are written too when the row is created.
    "get_or_create": WriteMethod(keywords=True, record_keywords=("defaults",)),
    "aget_or_create": WriteMethod(keywords=True, record_keywords=("defaults",)),
    "update_or_create": WriteMethod(keywords=True, record_keywords=("defaults", "create_defaults")),
    "aupdate_or_create": WriteMethod(
        keywords=True, record_keywords=("defaults", "create_defaults")
    ),
    # peewee Model.insert(status=...) / insert({...}), replace(...)
    "insert": WriteMethod(keywords=True, position=0),
    "replace": WriteMethod(keywords=True, position=0),
    "insert_many": WriteMethod(position=0, rows=True),
    "replace_many": WriteMethod(position=0, rows=True),
    # SQLAlchemy Session bulk operations: (Model, rows)
    "bulk_insert_mappings": WriteMethod(position=1, rows=True, model_position=0),
    "bulk_update_mappings": WriteMethod(position=1, rows=True, model_position=0),
    # SQLModel / pydantic: Task.model_validate(data) builds a row from a dict.
    "model_validate": WriteMethod(position=0, on_class=True),
}
# Writes that build an instance (`Task(status=...)`, `Task.model_validate(data)`): a
# write only once the instance reaches the database (solve/ormsessions.py).
BUILDS = ("construct", "model_validate")
# What puts a built instance into the database: a method given it (or a list of them)
# as an argument, SQLAlchemy's and SQLModel's session.add/add_all/merge and bulk saves,
# Django's and peewee's bulk_create/bulk_update; or a method called on it, save().
PERSIST_METHODS = (
    "add",
    "add_all",
    "merge",
    "bulk_save_objects",
    "bulk_create",
    "abulk_create",
    "bulk_update",
    "abulk_update",
)
SAVE_METHODS = ("save", "asave")
# session.execute(update(Task), [rows]): the rows of a statement run once per row.
EXECUTE_METHODS = ("execute", "exec")
EXECUTE_ROWS = WriteMethod(position=1, rows=True)
# Functions that build a statement over the model given first: update(Task), insert(Task).
STATEMENT_FUNCTIONS = ("update", "insert", "select", "delete")
STATEMENT_MODULES = ("sqlalchemy", "sqlmodel")
# Methods whose first argument is the model (or a statement over it) and whose result
# is its query or instance: session.query(Task), session.get(Task, id),
# session.scalars(select(Task)), session.execute(select(Task)).
MODEL_ARGUMENT_METHODS = (
    "query",
    "get",
    "get_one",
    "aget",
    "scalars",
    "scalar",
    "execute",
    "exec",
    "merge",
    "refresh",
    "get_object_or_404",
)
# Functions of the same kind: Django's get_object_or_404(Task, ...).
MODEL_ARGUMENT_FUNCTIONS = ("get_object_or_404", "aget_object_or_404")
SETATTR = "builtins.setattr"

# The libraries, by the qualified names their model bases and helpers start with.
LIBRARIES = {
    "sqlmodel": "sqlmodel",
    "sqlalchemy": "sqlalchemy",
    "flask_sqlalchemy": "sqlalchemy",
    "django": "django",
    "peewee": "peewee",
    "playhouse": "peewee",
}
# A class body's names that name its table, per library (`Meta` is a nested class).
TABLE_NAMES = {
    "sqlalchemy": ("__tablename__",),
    "sqlmodel": ("__tablename__",),
    "django": ("Meta.db_table",),
    "peewee": ("Meta.table_name", "Meta.db_table"),
}
# Module names that hold Django models: the app label is the folder that holds them.
DJANGO_MODEL_MODULES = ("models",)

# Calls that wrap a value written to a field: Django's Value(x), Case(When(..., then=x),
# default=y); Enum columns take the member.
VALUE_WRAPPERS = ("Value",)
CASE = "Case"
WHEN = "When"
# A column type that bounds its values: SQLAlchemy Enum(...), its argument a Python
# Enum class or the allowed strings.
ENUM_TYPES = ("Enum",)
# What a column over a Python Enum class stores for a member, per library: SQLAlchemy's
# Enum(Status) stores the member's name (native_enum=, name=, length= change nothing),
# and so does the Enum a field's annotation makes when its column names no type of its
# own (SQLAlchemy 2.x `status: Mapped[Status]`; SQLModel `status: Status`, which builds
# sa_Enum(Status)). Django's choices and peewee fields store the value written.
ENUM_STORES = {"sqlalchemy": "name", "sqlmodel": "name"}
# The Enum type's keyword that gives the stored texts instead: a callable over the class
# returning one text per member (`lambda e: [m.value for m in e]`), read by the attribute
# it takes of each member; a callable not read so may store either.
VALUES_CALLABLE = "values_callable"
MEMBER_TEXTS = ("value", "name")
# Where a column names its own type: a positional argument other than a text of these
# calls (Column("status", String), mapped_column(String(20))), or one of these keywords
# (type_=, SQLModel's Field(sa_type=..., sa_column=...)).
TYPED_BY_POSITION = ("Column", "mapped_column")
TYPE_KEYWORDS = ("type_", "sa_type", "sa_column")
# Libraries whose model class is a table only when its class statement says so
# (SQLModel: `class Task(SQLModel, table=True)`; without it, a pydantic model).
TABLE_KEYWORDS = {"sqlmodel": "table"}
# Django choices classes: each member is (value, label), or a value.
CHOICES_BASES = ("TextChoices", "IntegerChoices", "Choices")

# Django's save(update_fields=[...]) writes only the named fields. The instances whose
# every save the lint can see are locals fetched by a manager (`Task.objects.get(...)`,
# `get_object_or_404(Task, ...)`): nothing outside the function holds them.
SAVE_METHODS = ("save", "asave")
UPDATE_FIELDS = "update_fields"
MANAGER = "objects"
FETCH_METHODS = ("get", "aget", "first", "afirst", "last", "alast", "earliest", "latest")
FETCH_FUNCTIONS = MODEL_ARGUMENT_FUNCTIONS

# Django forms and the admin: a user edits the listed fields of the model.
FORM_BASES = ("ModelForm",)
ADMIN_BASES = ("ModelAdmin", "StackedInline", "TabularInline")
ALL_FIELDS = "__all__"
FORM_MODEL = "Meta.model"  # where a ModelForm names its model
REGISTER = "register"  # admin.site.register(Model, Admin), @admin.register(Model)
EDITED = "edited"  # the method of a form's or an admin's sink
# Class attributes that say which fields a form edits (in Meta).
FORM_FIELDS = ("Meta.fields", "Meta.exclude")
# What an admin's change form shows: the first of these the admin defines, a method
# overriding Django's (its returns) or an attribute; True where it lists fieldsets,
# `(title, {"fields": [...]})` each. Django asks get_fieldsets(), which falls back to
# `fieldsets`, then to get_fields(), which falls back to `fields`.
FIELDSET_FIELDS = "fields"
ADMIN_SHOWN = (
    ("get_fieldsets", True),
    ("fieldsets", True),
    ("get_fields", False),
    ("fields", False),
)
# What the form leaves out or shows read-only, the same way; what the list edits.
ADMIN_EXCLUDE = ("get_exclude", "exclude")
ADMIN_READONLY = ("get_readonly_fields", "readonly_fields")
ADMIN_LIST_EDITABLE = ("list_editable",)
# An admin whose every one of these returns False lets no one add or change a row.
ADMIN_PERMISSIONS = ("has_add_permission", "has_change_permission")


def library_of(qual: str) -> str:
    """The library a qualified name belongs to ("" for none of them)."""
    return LIBRARIES.get(qual.split(".", 1)[0], "")


def is_statement(qual: str) -> bool:
    """`sqlalchemy.update`, `sqlmodel.select`...: a statement built over a model."""
    module, _, name = qual.rpartition(".")
    return name in STATEMENT_FUNCTIONS and module.split(".", 1)[0] in STATEMENT_MODULES
