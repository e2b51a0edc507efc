"""SQL text the program reads from its own files: a model of the path and file APIs.

A path is followed from the analysed module's own place (`__file__`, a package
named to `importlib.resources` or `pkgutil`) through `pathlib` and `os.path`
(`Path(...)`, `.parent`, `/`, `.joinpath()`, `os.path.join/dirname`, `.glob()`);
the text is what `.read_text()`, `open(...).read()`, `.read_bytes().decode()`,
`importlib.resources.read_text` or `pkgutil.get_data(...).decode()` give. The file
is looked up among the analysed tree's `.sql` files (sqlfiles.py): any other
path, or one not computed here, is a value not known.

A text cut out of a file (`next(iter(regex.split(text)))`, `text.split(...)[i]`,
an element of such a list, stripped) is one of the file's named sections
(sqlfiles.sections), each judged; a file read as one of a folder's is named by
its stem. templates.py picks, for a lookup by a known key, the texts of that
name when there are some.
"""

from __future__ import annotations

import posixpath
from typing import TYPE_CHECKING

from kanban_audit.linter.solve.atoms import Frame, Hole, Template
from kanban_audit.linter.sqlfiles import NamedText, sections
from kanban_audit.linter.values import Attr, Call, Elem, Expr, Index, Lit, Ref, Unknown

if TYPE_CHECKING:
    from kanban_audit.linter.solve.evaluate import Evaluator

_PATH_TYPES = {f"pathlib.{n}" for n in ("Path", "PurePath", "PosixPath", "PurePosixPath")}
_SAME_PATH = {f"os.path.{n}" for n in ("abspath", "realpath", "normpath")} | {"builtins.str"}
_SAME_PATH_METHODS = ("resolve", "absolute")
_RESOURCES = ("importlib.resources", "importlib_resources")
_OPENERS = {"builtins.open", "io.open", "codecs.open"}
_SPLITS = ("split", "splitlines", "rsplit")
_STRIPS = ("strip", "lstrip", "rstrip")
_MODULE_NAMES = (".__file__", ".__name__", ".__package__")


def file_texts(ev: Evaluator, expr: Expr, frame: Frame | None) -> list[Template] | None:
    """The texts a read of a project file gives, or None when `expr` is no such read."""
    if not isinstance(expr, (Call, Index, Elem)):
        return None
    if isinstance(expr, Call):
        func = expr.func
        if isinstance(func, Ref) and func.qual in {f"{m}.read_text" for m in _RESOURCES}:
            return _texts(ev, _resource_paths(ev, expr.args[:1], expr.args[1:2], frame))
        if isinstance(func, Ref) and func.qual == "builtins.next" and expr.args:
            return _pieces(ev, expr.args[0], frame)
        func = _method(ev, func)
        if not isinstance(func, Attr):
            return None
        if func.name == "decode":
            return _decoded(ev, func.base, frame)
        if func.name == "read_text":
            return _texts(ev, paths(ev, func.base, frame))
        if func.name == "read" and not expr.args:
            opened = _opened(func.base)
            return None if opened is None else _texts(ev, paths(ev, opened, frame))
        if func.name in _STRIPS and _is_piece(func.base):
            texts = _pieces_of(ev, func.base, frame)
            return None if texts is None else [_stripped(t, func.name) for t in texts]
        return None
    return _pieces_of(ev, expr, frame)


def _method(ev: Evaluator, func: Expr) -> Expr:
    """A method called on a module's constant, which the summary names as one name
    (`SQL.joinpath` is `Ref("pkg.mod.SQL.joinpath")`), as the attribute it is."""
    if isinstance(func, Ref) and "." in func.qual:
        head, name = func.qual.rsplit(".", 1)
        target = ev.index.resolve(head)
        if target and target[0] == "global":
            return Attr(Ref(head), name)
    return func


def _decoded(ev: Evaluator, raw: Expr, frame: Frame | None) -> list[Template] | None:
    """The text of bytes read from a file: `path.read_bytes()`, `open(path, "rb").read()`,
    `pkgutil.get_data(package, name)`; None when `raw` is no such read."""
    if not isinstance(raw, Call):
        return None
    func = _method(ev, raw.func)
    if isinstance(func, Ref) and func.qual == "pkgutil.get_data":
        return _texts(ev, _resource_paths(ev, raw.args[:1], raw.args[1:2], frame))
    if isinstance(func, Attr) and func.name == "read_bytes":
        return _texts(ev, paths(ev, func.base, frame))
    opened = _opened(func.base) if isinstance(func, Attr) and func.name == "read" else None
    return None if opened is None else _texts(ev, paths(ev, opened, frame))


def _opened(expr: Expr) -> Expr | None:
    """The path a file object was opened from: `open(path)`, `path.open()`."""
    if not isinstance(expr, Call):
        return None
    if isinstance(expr.func, Ref) and expr.func.qual in _OPENERS and expr.args:
        return expr.args[0]
    if isinstance(expr.func, Attr) and expr.func.name == "open":
        return expr.func.base
    return None


def _texts(ev: Evaluator, found: list[str | None]) -> list[Template]:
    """The texts of the files at these paths, each named by its stem; a hole for a
    path not known here or no SQL file of the tree."""
    texts: list[Template] = []
    for path in found:
        text = ev.sql_files.text(path) if path is not None else None
        if text is not None:
            stem = posixpath.splitext(posixpath.basename(path or ""))[0]
            texts.append(NamedText((text,), stem))
        elif path is None:
            texts.append((Hole(Unknown("the text of a file whose path is not known here"), None),))
        else:
            why = f"the text of {path}, not a readable SQL file of the analysed tree"
            texts.append((Hole(Unknown(why), None),))
    return texts


def paths(ev: Evaluator, expr: Expr, frame: Frame | None) -> list[str | None]:
    """The files or folders a path expression may name (display paths), None where
    it is not known here."""
    found: list[str | None] = []
    for struct in ev.structures(expr, frame):
        found += _path(ev, struct, frame)
    return found[:16] or [None]


def _path(ev: Evaluator, expr: Expr, frame: Frame | None) -> list[str | None]:
    if isinstance(expr, Ref) and expr.qual.endswith(".__file__"):
        summary = ev.index.modules.get(expr.qual.removesuffix(".__file__"))
        return [summary.path if summary else None]
    if isinstance(expr, Attr) and expr.name == "parent":
        return [_folder(p) for p in paths(ev, expr.base, frame)]
    if isinstance(expr, Elem):  # a file a folder's listing gives
        return _listed(ev, expr.seq, frame)
    if not isinstance(expr, Call):
        return [None]
    func = _method(ev, expr.func)
    if isinstance(func, Ref):
        if func.qual in _PATH_TYPES or func.qual in ("os.path.join", "operator.truediv"):
            return _joined(ev, list(expr.args), frame)
        if func.qual == "os.path.dirname" and expr.args:
            return [_folder(p) for p in paths(ev, expr.args[0], frame)]
        if func.qual in _SAME_PATH and expr.args:
            return paths(ev, expr.args[0], frame)
        if func.qual in {f"{m}.files" for m in _RESOURCES} and expr.args:
            return _package_folders(ev, expr.args[0], frame)
        return [None]
    if isinstance(func, Attr) and func.name in _SAME_PATH_METHODS:
        return paths(ev, func.base, frame)
    if isinstance(func, Attr) and func.name == "joinpath":
        return _joined(ev, [func.base, *expr.args], frame)
    return [None]


def _folder(path: str | None) -> str | None:
    """The folder of a path; a module at the top of the tree (`app.py`) is in `.`,
    not in a folder named by the empty text."""
    return (posixpath.dirname(path) or ".") if path else None


def _joined(ev: Evaluator, parts: list[Expr], frame: Frame | None) -> list[str | None]:
    """A path made of parts: the first names a place (a module's file or folder), the
    others are relative names given as text."""
    if not parts:
        return [None]
    found = paths(ev, parts[0], frame)
    for part in parts[1:]:
        names = [_plain(t) for t in ev.strings(part, frame)[:4]]
        found = [
            posixpath.normpath(posixpath.join(base, name)) if base and name is not None else None
            for base in found
            for name in names
        ][:16]
    return found


def _plain(template: Template) -> str | None:
    """A relative name known in full: no hole, no absolute path, no way up."""
    if any(not isinstance(p, str) for p in template):
        return None
    text = "".join(template)
    return None if text.startswith("/") or ".." in text.split("/") else text


def _package_folders(ev: Evaluator, arg: Expr, frame: Frame | None) -> list[str | None]:
    """The folder of a package named by text, or by a module's `__name__`/`__package__`."""
    found: list[str | None] = []
    for struct in ev.structures(arg, frame):
        if isinstance(struct, Ref) and struct.qual.endswith(_MODULE_NAMES):
            summary = ev.index.modules.get(struct.qual.rsplit(".", 1)[0])
            found.append(posixpath.dirname(summary.path) if summary else None)
            continue
        for template in ev.strings(struct, frame)[:4]:
            name = _plain(template)
            found.append(ev.sql_files.package_folder(name) if name else None)
    return found or [None]


def _resource_paths(
    ev: Evaluator, package: tuple[Expr, ...], resource: tuple[Expr, ...], frame: Frame | None
) -> list[str | None]:
    """`read_text(package, name)`, `get_data(package, "sql/x.sql")`: the name in the
    package's folder."""
    if not package or not resource:
        return [None]
    folders = _package_folders(ev, package[0], frame)
    names = [_plain(t) for t in ev.strings(resource[0], frame)[:4]]
    return [
        posixpath.normpath(posixpath.join(f, n)) if f and n is not None else None
        for f in folders
        for n in names
    ]


def _listed(ev: Evaluator, seq: Expr, frame: Frame | None) -> list[str | None]:
    """The files `folder.glob("*.sql")` (or `rglob`) lists, among the tree's SQL files."""
    func = _method(ev, seq.func) if isinstance(seq, Call) else None
    if not (isinstance(func, Attr) and func.name in ("glob", "rglob") and seq.args):  # type: ignore[union-attr]
        return [None]
    patterns = [_plain(t) for t in ev.strings(seq.args[0], frame)[:4]]  # type: ignore[union-attr]
    found: list[str | None] = []
    for folder in paths(ev, func.base, frame):
        for pattern in patterns:
            if folder is None or pattern is None:
                found.append(None)
                continue
            recursive = func.name == "rglob" or pattern.startswith("**/")
            found += ev.sql_files.in_folder(folder, pattern, recursive) or [None]
    return found


# -- texts cut out of a file --------------------------------------------------------


def _is_piece(expr: Expr) -> bool:
    """`next(parts)`, `parts[i]` or an element of parts: a piece of a split text."""
    if isinstance(expr, Call) and isinstance(expr.func, Ref):
        return expr.func.qual == "builtins.next"
    return isinstance(expr, (Index, Elem))


def _pieces_of(ev: Evaluator, expr: Expr, frame: Frame | None) -> list[Template] | None:
    if isinstance(expr, Call) and isinstance(expr.func, Ref) and expr.args:
        return _pieces(ev, expr.args[0], frame) if expr.func.qual == "builtins.next" else None
    if isinstance(expr, Index) and isinstance(expr.key, Lit) and isinstance(expr.key.value, int):
        return _pieces(ev, expr.base, frame)
    if isinstance(expr, Elem):
        return _pieces(ev, expr.seq, frame)
    return None


def _pieces(ev: Evaluator, seq: Expr, frame: Frame | None) -> list[Template] | None:
    """The sections of each text a split gives (`iter(...)` and `list(...)` of it too),
    or None when `seq` is no split of text."""
    while (
        isinstance(seq, Call)
        and isinstance(seq.func, Ref)
        and seq.func.qual in ("builtins.iter", "builtins.list")
        and seq.args
    ):
        seq = seq.args[0]
    if not isinstance(seq, Call):
        return None
    func = seq.func
    if isinstance(func, Attr) and func.name in _SPLITS:
        split = func.base
    elif isinstance(func, Ref) and func.qual == "re.split" and len(seq.args) > 1:
        split = seq.args[1]
    elif isinstance(func, Ref) and func.qual.endswith(".split") and seq.args:
        split = seq.args[0]  # a compiled pattern's split(text)
    else:
        return None
    texts: list[Template] = []
    for template in ev.strings(split, frame):
        if any(not isinstance(p, str) for p in template):
            texts.append(template)
            continue
        texts += [NamedText((body,), name) for name, body in sections("".join(template))]
    return texts


def _stripped(template: Template, method: str) -> Template:
    if any(not isinstance(p, str) for p in template):
        return template
    text = getattr("".join(template), method)()
    return NamedText((text,), template.name) if isinstance(template, NamedText) else (text,)
