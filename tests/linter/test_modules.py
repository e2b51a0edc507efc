"""Module names are what an importer writes: namespace folders, src/, aliases, clashes."""

from __future__ import annotations

from pathlib import Path

from kanban_audit.linter.discover import discover
from kanban_audit.linter.modules import ModuleTable, module_names
from kanban_audit.linter.values import Call, FunctionSummary, Lit, ModuleSummary, Ref, Site

from .harness import run_case


def tree(root: Path, *files: str) -> Path:
    for name in files:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("")
    return root


def names(root: Path) -> dict[str, tuple[str, tuple[str, ...]]]:
    found = discover([root], root, root, ("*.py", "*.pyi"), ())
    return {f.display: (f.module, f.aliases) for f in found.files}


def test_namespace_folders_are_part_of_the_name(tmp_path: Path) -> None:
    root = tree(tmp_path, "plugins/kanban/dashboard/plugin_api.py", "plugins/web/__init__.py")
    assert names(root) == {
        "plugins/kanban/dashboard/plugin_api.py": (
            "plugins.kanban.dashboard.plugin_api",
            ("kanban.dashboard.plugin_api", "dashboard.plugin_api", "plugin_api"),
        ),
        "plugins/web/__init__.py": ("plugins.web", ("web",)),
    }


def test_regular_packages_and_src_keep_their_names(tmp_path: Path) -> None:
    root = tree(tmp_path, "svc/__init__.py", "svc/db.py", "src/pkg/__init__.py", "src/pkg/m.py")
    assert names(root) == {
        "src/pkg/__init__.py": ("pkg", ()),
        "src/pkg/m.py": ("pkg.m", ()),
        "svc/__init__.py": ("svc", ()),
        "svc/db.py": ("svc.db", ()),
    }


def test_folders_no_import_can_name_are_not_part_of_it(tmp_path: Path) -> None:
    root = tree(tmp_path, "my-plugins/board/store.py", "class/x.py")
    assert names(root) == {
        "class/x.py": ("x", ()),
        "my-plugins/board/store.py": ("board.store", ("store",)),
    }


def test_outside_the_root_the_name_starts_above_the_top_package(tmp_path: Path) -> None:
    tree(tmp_path, "lib/pkg/__init__.py", "lib/pkg/m.py")
    assert module_names(tmp_path / "lib/pkg/m.py", tmp_path / "elsewhere") == ("pkg.m", ())


def test_clashing_names_stay_apart(tmp_path: Path) -> None:
    root = tree(tmp_path, "a/conf.py", "b/conf.py", "my-x/conf.py", "my-y/conf.py", "s.py", "s.pyi")
    found = names(root)
    assert found["a/conf.py"] == ("a.conf", ("conf",))
    assert found["b/conf.py"] == ("b.conf", ("conf",))
    assert found["my-x/conf.py"][0] == "conf"
    assert found["my-y/conf.py"][0] == "my-y/conf.py"
    assert found["s.py"][0] == "s" and found["s.pyi"][0] == "s.pyi"


def test_an_alias_two_modules_hold_is_resolved_beside_the_importer(tmp_path: Path) -> None:
    root = tree(tmp_path, "a/conf.py", "a/main.py", "b/conf.py", "c/main.py", "only/x.py")
    table = ModuleTable(discover([root], root, root, ("*.py",), ()).files)
    assert table.unique_aliases() == {"x": "only.x"}
    assert table.ambiguous == {"conf", "main"}
    assert table.displays("conf") == ["a/conf.py", "b/conf.py"]
    call = Call(Ref("conf.set_status"), (Lit("running"),), (), Site(3, 0, 3))
    for importer, expected in (("a.main", "a.conf.set_status"), ("c.main", "conf.set_status")):
        fn = FunctionSummary(f"{importer}.start", (), {}, 0, Site(2, 0, 2), calls=[call])
        summary = ModuleSummary(importer, "x.py", imports={"set_status": "conf.set_status"})
        summary.functions[fn.qualname] = fn
        (localised,) = table.localise_all([summary], {"x.py": b"from conf import set_status"})
        assert localised.imports == {"set_status": expected}
        assert localised.functions[fn.qualname].calls[0].func == Ref(expected)
        # A file whose bytes import no shared name is not read again.
        assert table.localise_all([summary], {"x.py": b"x = conf"}) == [summary]


def test_a_deeply_nested_importer_of_a_shared_name_is_localised(tmp_path: Path) -> None:
    terms = " + ".join(f"'x{i}'" for i in range(1500))
    tree(tmp_path, "b/conf.py")
    (tmp_path / "a").mkdir()
    (tmp_path / "a/conf.py").write_text(
        "def set_status(conn, i, s):\n"
        "    conn.execute('UPDATE tasks SET status = ? WHERE id = ?', (s, i))\n"
    )
    (tmp_path / "a/main.py").write_text(
        f"from conf import set_status\n\nS = {terms}\n\n\n"
        "def go(conn):\n    set_status(conn, 1, 'running')\n"
    )
    result = run_case(tmp_path, [Path("a"), Path("b")])
    assert [(f.path, f.line, f.code) for f in result.findings] == [("a/main.py", 7, "KA001")]
