"""What every command pays before it reads a profile: the modules it imports and the data files it parses."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import click
import pytest

from decision.cli import COMMAND_MODULES, main, run
from decision.errors import InputError
from decision.safeyaml import MAX_ALIASES, load_yaml_file

ROOT = Path(__file__).resolve().parents[1]


def _fresh(code: str) -> dict:
    """What `code` prints (one JSON line) when run in a new interpreter, so nothing is imported or cached yet."""
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.splitlines()[-1])


def test_score_starts_without_what_other_commands_and_other_files_need():
    """openpyxl takes ~0.1 s to import: only a run that reads or writes an XLSX file pays it; asyncio only a run with
    --scheduler; the modules of the other commands only those commands."""
    found = _fresh("""
import json, sys
from decision.cli import main
try:
    main(["score", "--help"])
except SystemExit:
    pass
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in ("openpyxl", "asyncio", "dask", "distributed")
                        or m in ("decision.import_command", "decision.exchange_import", "decision.synth",
                                 "decision.appendix.command"))))
""")
    assert found == []


def test_each_command_is_found_where_the_command_line_imports_it_from():
    with click.Context(main) as ctx:
        assert [(name, main.get_command(ctx, name).name) for name in main.list_commands(ctx)] == [
            (name, name) for name in ("appendix", "evaluate", "import", "score", "synth")]
    assert set(COMMAND_MODULES) == {"appendix", "import", "score", "synth"}


def test_each_shipped_data_file_is_parsed_once_and_with_libyaml_when_pyyaml_has_it():
    """The limits, the parameters and the catalog of a run: data/parameters.yaml (read for the limits at import and
    for the parameters) is parsed once, and data/cas.yaml once; by libyaml's loader, ~10x faster than PyYAML's own."""
    parsed = _fresh("""
import json, yaml
calls = []
load = yaml.load
def counted(stream, Loader):
    calls.append([Loader.__name__, issubclass(Loader, yaml.CSafeLoader) if yaml.__with_libyaml__ else True])
    return load(stream, Loader)
yaml.load = counted
from decision.batch import _engine_data
_engine_data(None, None)
print(json.dumps(calls))
""")
    assert len(parsed) == 2
    assert all(c_loader for _, c_loader in parsed)


@pytest.mark.parametrize(("text", "message"), [
    ("a: 1\nb: 2\na: 3\n", "line 3, column 1: duplicate key 'a'"),
    ("a: [1, 2\n", "not valid YAML at line 2"),
])
def test_a_shipped_file_is_checked_for_duplicate_keys_and_its_errors_name_the_line(tmp_path, text, message):
    path = tmp_path / "data.yaml"
    path.write_text(text)
    with pytest.raises(InputError, match=message) as raised:
        load_yaml_file(path, shipped=True)
    assert str(path) in str(raised.value)


def test_a_shipped_file_reads_as_user_yaml_does_and_each_caller_gets_its_own_copy(tmp_path):
    path = tmp_path / "data.yaml"
    path.write_text("when: 2026-02-30\nday: 2026-02-28\nlist: &l [1, 2]\nagain: *l\nn: 1.5e3\nyes_word: yes\n")
    shipped = load_yaml_file(path, shipped=True)
    assert shipped == load_yaml_file(path) == {"when": "2026-02-30", "day": dt.date(2026, 2, 28), "list": [1, 2],
                                               "again": [1, 2], "n": "1.5e3", "yes_word": True}
    shipped["list"].append(3)
    assert load_yaml_file(path, shipped=True)["list"] == [1, 2]


def test_user_yaml_keeps_the_alias_limit_a_shipped_file_does_not_need(tmp_path):
    """User-supplied YAML (a profile, another --parameters or --catalog file) is read by the Python loader, which
    counts aliases as it parses; the shipped files are part of the product."""
    path = tmp_path / "p.yaml"
    path.write_text("a: &a x\nb: [" + ", ".join(["*a"] * (MAX_ALIASES + 1)) + "]\n")
    with pytest.raises(InputError, match=f"more than {MAX_ALIASES} aliases"):
        load_yaml_file(path)
    assert load_yaml_file(path, shipped=True)["b"] == ["x"] * (MAX_ALIASES + 1)


def test_the_package_starts_without_the_engine():
    """`python -m decision` imports the package first: with the engine in it, Ctrl-C in the first second of any
    command printed an import traceback, and `--version` paid for pandas."""
    found = _fresh("""
import json, sys
import decision
before = "decision.engine" in sys.modules
print(json.dumps([before, decision.__version__, decision.evaluate.__module__]))
""")
    assert found == [False, __import__("decision.engine").engine.ENGINE_VERSION, "decision.engine"]


def test_ctrl_c_before_a_command_works_exits_130_not_clicks_1(monkeypatch, capsys):
    """click turns Ctrl-C into "Aborted!" and exit 1, which `score` uses for rejected rows."""
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("decision.report.render", interrupted)
    monkeypatch.setattr(sys, "argv", ["decision", "evaluate", str(ROOT / "data" / "profiles" / "contoso-2026.yaml")])
    with pytest.raises(SystemExit) as stop:
        run()
    assert stop.value.code == 130
    assert capsys.readouterr().err.strip() == "interrupted"
