"""Property tests: every parser of user files either accepts its input or raises AuditError.

No input, however malformed, may crash a parser with another exception or be half-accepted.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit.config import RunConfig, load_config
from audit.errors import AuditError
from audit.runfolder import RunFolder
from audit.suites.spec import SuiteSpec, load_spec

FUZZ = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10, 10**6), st.floats(allow_nan=True),
                    st.text(max_size=20))
documents = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=5)),
    max_leaves=12)
config_keys = st.sampled_from(sorted(RunConfig.model_fields) + ["bogus"])
spec_keys = st.sampled_from(sorted(SuiteSpec.model_fields) + ["bogus"])


def _accepts_or_audit_error(action) -> None:
    try:
        action()
    except AuditError as error:
        assert error.message and error.fix


@FUZZ
@given(text=st.text(max_size=200))
def test_config_parser_on_arbitrary_text(tmp_path: Path, text: str) -> None:
    path = tmp_path / "run.yaml"
    path.write_text(text, encoding="utf-8")
    _accepts_or_audit_error(lambda: load_config(path, {}))


@FUZZ
@given(data=st.dictionaries(config_keys, documents, max_size=6))
def test_config_parser_on_structured_documents(tmp_path: Path, data: dict) -> None:
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    _accepts_or_audit_error(lambda: load_config(path, {}))


@FUZZ
@given(data=st.dictionaries(spec_keys, documents, max_size=8))
def test_suite_spec_parser(tmp_path: Path, data: dict) -> None:
    (tmp_path / "suite.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    _accepts_or_audit_error(lambda: load_spec(tmp_path, "fuzzed"))


@FUZZ
@given(payload=st.one_of(st.binary(max_size=200), documents.map(
    lambda d: json.dumps(d).encode())))
def test_run_folder_reader(tmp_path: Path, payload: bytes) -> None:
    folder = tmp_path / "run"
    folder.mkdir(exist_ok=True)
    for name in ("run.json", "results.json", "energy.json"):
        (folder / name).write_bytes(payload)
    run = RunFolder(folder)
    for name in ("run.json", "results.json", "energy.json"):
        _accepts_or_audit_error(lambda name=name: run.read_json(name))
    (folder / "samples.jsonl").write_bytes(payload)
    _accepts_or_audit_error(lambda: list(run.iter_samples()))


any_text = st.text(alphabet=st.characters(exclude_categories=()), max_size=60)
"""Any code point, lone surrogates included (JSON can spell them; UTF-8 cannot hold them)."""


@FUZZ
@given(response=any_text, junk=st.binary(max_size=20))
def test_run_folder_text_always_reads_as_writable_unicode(tmp_path: Path, response: str,
                                                           junk: bytes) -> None:
    """Whatever a samples line spells (escaped surrogates, raw invalid UTF-8), what is read
    can be written as UTF-8 again: no reader or renderer downstream can fail on it."""
    folder = tmp_path / "run"
    folder.mkdir(exist_ok=True)
    record = {"suite": "s", "id": "1", "group": {}, "requests": [], "scores": {},
              "responses": [response]}
    line = json.dumps(record).encode().replace(b'"responses": ["', b'"responses": ["' +
                                               junk.replace(b'"', b"").replace(b"\\", b""))
    (folder / "samples.jsonl").write_bytes(line + b"\n")
    try:
        records = list(RunFolder(folder).iter_samples())
    except AuditError as error:
        assert error.message and error.fix
        return
    for value in records[0]["responses"]:
        value.encode("utf-8")


@FUZZ
@given(text=any_text)
def test_markdown_and_dashboard_escaping_leave_no_markup(text: str) -> None:
    """Run-folder text through the report's `md` renders, under CommonMark, as text only;
    through the dashboard's `plain`, no unescaped link, image or tag opener remains."""
    from markdown_it import MarkdownIt

    from audit.report.markdown import md
    from audit.text import clean_text
    from dashboard.ui import plain

    text = clean_text(text)
    html = MarkdownIt("commonmark").render(md(text))
    tags = {tag.split()[0].strip("</>") for tag in re.findall(r"</?[a-z][^>]*>", html)}
    assert tags <= {"p", "br"}, (text, html)
    shown = plain(text)
    assert not re.search(r"(?<!\\)[\[<!`$]", shown), (text, shown)
