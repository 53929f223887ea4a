"""The documentation site (docs/): it builds with warnings as errors and without network, every registered
environment has its page and its picture, and every Python snippet of the docs and the README runs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from mfenvs.registration import ENVIRONMENTS

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
FIGURE = re.compile(r"!\[[^\]]*\]\(\.\./_static/figures/([\w.]+)\)")
SNIPPET = re.compile(r"^(?P<marker>% snippet not run: [^\n]+\n)?```python\n(?P<code>.*?)^```$", re.MULTILINE | re.DOTALL)
MAX_ANIMATION_BYTES = 2_000_000


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site built once, fresh, with ``-W``; any fetch goes to a closed port and fails."""
    pytest.importorskip("sphinx")
    pytest.importorskip("myst_parser")
    pytest.importorskip("furo")
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}", "SDL_VIDEODRIVER": "dummy"}
    env.update({key: "http://127.0.0.1:9" for key in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY")})
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-E", "-b", "html", "-d", str(out / "doctrees"), str(DOCS), str(out / "html")]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"sphinx-build -W failed:\n{result.stdout[-3000:]}\n{result.stderr[-6000:]}"
    return out / "html"


def test_site_builds_with_every_page(site: Path) -> None:
    for page in ("index", "usage", "mean_action", "training", "algorithms", "benchmarking", "reproduction", "performance", "benchmark_log", "changelog", "api/index"):
        assert (site / f"{page}.html").is_file(), page
    api = {path.name for path in (site / "api" / "_generated").glob("*.html")}
    for module in ("mfenvs.battle.env", "mfagents.algos.mfq", "mfagents.commands.cli", "render.record"):
        assert f"{module}.html" in api, module
    assert not any(name.startswith(("mfagents.config.", "mfagents.scripted.")) for name in api)  # 0.2's aliases are no modules
    performance = (site / "performance.html").read_text()
    assert "speed.png" in performance and "MAgent2 agent-steps/s" in performance  # the chart, then the tables
    reproduction = (site / "reproduction.html").read_text()
    assert "phase_diagram.png" in reproduction  # REPRODUCTION.md's plots come with it


@pytest.mark.parametrize("entry", ENVIRONMENTS, ids=lambda entry: entry.short_name)
def test_every_environment_has_its_page_and_picture(entry, site: Path) -> None:
    page = DOCS / "environments" / f"{entry.short_name}.md"
    assert page.is_file(), f"{entry.env_id} has no page {page.relative_to(ROOT)}"
    text = page.read_text()
    assert text.startswith(f"# ") and f"`{entry.env_id}`" in text.splitlines()[0]
    for part in ("overview", "arguments", "history"):  # read from the module docstring and the signature
        assert f"```{{envdoc}} {entry.short_name}\n:part: {part}\n```" in text, part
    pictures = FIGURE.findall(text)
    assert pictures and pictures[0].startswith(entry.short_name), f"{page.name} must open with its picture"
    picture = DOCS / "_static" / "figures" / pictures[0]
    assert picture.is_file() and 0 < picture.stat().st_size < MAX_ANIMATION_BYTES, picture
    index = (DOCS / "environments" / "index.md").read_text()
    assert f"\n{entry.short_name}\n" in index.split("{toctree}")[1], "the page is in the environments' toctree"
    html = (site / "environments" / f"{entry.short_name}.html").read_text()
    assert pictures[0] in html
    module = entry.module.split(".")[-1]
    assert f"{module}.parallel_env(...)" in html and "render_mode" in html  # the generated argument table


def test_argument_table_fails_on_an_undescribed_argument(monkeypatch: pytest.MonkeyPatch) -> None:
    sys.path.insert(0, str(DOCS / "_ext"))
    try:
        import mfdocs
    finally:
        sys.path.remove(str(DOCS / "_ext"))
    rows = mfdocs.argument_rows("ising")
    assert [row[:2] for row in rows][:2] == [("size", "20"), ("h", "0.0")]
    entry, doc = mfdocs.env_docstring("ising")
    monkeypatch.setattr(mfdocs, "env_docstring", lambda name: (entry, doc.replace("    h: external field.\n", "")))
    with pytest.raises(ValueError, match=r"not described in the docstring \['h'\]"):
        mfdocs.argument_rows("ising")


def snippets() -> list[tuple[str, str, str | None]]:
    """``(where, code, reason not run)`` for every Python block of the docs' Markdown pages and the README."""
    found = []
    for path in sorted([*DOCS.rglob("*.md"), ROOT / "README.md"]):
        if "_build" in path.parts or "_generated" in path.parts:
            continue
        text = path.read_text()
        for match in SNIPPET.finditer(text):
            line = text.count("\n", 0, match.start("code"))
            marker = match.group("marker")
            found.append((f"{path.relative_to(ROOT)}:{line}", match.group("code"), marker and marker.split(":", 1)[1].strip()))
    return found


SNIPPETS = snippets()


def test_snippets_are_found() -> None:
    where = {w.split(":")[0] for w, _, _ in SNIPPETS}
    assert {"README.md", "docs/usage.md", "docs/benchmarking.md", "docs/environments/battle.md"} <= where
    assert sum(reason is not None for _, _, reason in SNIPPETS) <= 2, "not-run snippets are the exception"


@pytest.mark.parametrize("where, code, reason", SNIPPETS, ids=[w for w, _, _ in SNIPPETS])
def test_snippet_runs(where: str, code: str, reason: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if reason is not None:
        pytest.skip(f"not run ({where}): {reason}")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    if "torchrl" in code:
        pytest.importorskip("torchrl")
    if "ray.rllib" in code:
        pytest.importorskip("ray.rllib")  # the rllib extra is not in test (module docstring of tests/consumers/test_rllib.py)
    exec(compile(code, where, "exec"), {"__name__": "__snippet__"})


def test_readme_is_a_front_page_whose_links_resolve() -> None:
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 150
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()[-1]
    assert ci in readme, "the README states .ci/run's test command exactly"
    targets = re.findall(r"\]\((?!https?://)([^)#]+)\)", readme)
    assert "docs/_static/figures/battle.gif" in targets
    for entry in ENVIRONMENTS:
        assert f"docs/environments/{entry.short_name}.md" in targets, entry.env_id
    missing = [target for target in targets if not (ROOT / target).exists()]
    assert not missing, f"README links to files that do not exist: {missing}"


def test_speed_chart_reads_the_committed_benchmark_tables() -> None:
    """``make_figures.py speed`` draws from BENCHMARKS.md's tables: they must still be where it reads them."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_figures", DOCS / "scripts" / "make_figures.py")
    make_figures = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_figures)
    panels = make_figures.speed_rows(ROOT / "BENCHMARKS.md")
    assert set(panels) == {"all cores", "one thread"}
    for tables in panels.values():
        for rows in tables.values():
            assert [(row["map"], row["minimap"]) for row in rows] == [(m, s) for m in ("45", "80", "250") for s in ("off", "on")]
            assert all(make_figures.rate(row["ours agent-steps/s"]) > make_figures.rate(row["MAgent2 agent-steps/s"]) / 2 for row in rows)
    assert make_figures.rate("386.36 k") == 386_360.0 and make_figures.rate("3.79 M") == 3_790_000.0
