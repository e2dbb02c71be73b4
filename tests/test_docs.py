"""The documentation tells the truth about the code.

- the generated blocks of README.md and docs/optimizers.md, docs/surfaces.md are in sync
  with the registry and the surface library (``docs/make_docs.py --check``);
- the config schema quoted in the README is ``optiviz.config.SCHEMA``; every complete config
  shown in a ``yaml`` block validates, and the quickstart listing is configs/quickstart.yaml;
- every config, local link and gallery image the README names exists, and the gallery holds
  no image the README does not show;
- every ``optiviz <command>`` in README / docs/config.md code is a real command (with real
  list targets and describe names), and the quoted output of the untrimmed, file-free
  commands is what the command prints today;
- the Python API snippet runs.
"""

from __future__ import annotations

import importlib.util
import re
import shlex
from pathlib import Path

import yaml
from typer.main import get_command
from typer.testing import CliRunner

from optiviz.cli import app
from optiviz.config import SCHEMA, parse_config

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = [README, ROOT / "docs" / "config.md"]
GALLERY = ROOT / "docs" / "gallery"

FENCE = re.compile(r"^```([\w-]*)[^\n]*\n(.*?)^```[ \t]*$", re.DOTALL | re.MULTILINE)
# "optiviz run", "$ optiviz run", ".venv/bin/optiviz run", "`optiviz run ...`"; not
# "import optiviz", "optiviz.load_surface", "from optiviz import ..." (Python blocks are not
# scanned) or the package folder in "ruff check optiviz tests benchmarks".
COMMAND = re.compile(r"(?<!check)(?:^|[\s`(/$])optiviz[ \t]+([A-Za-z][\w-]*)")


def _load_module(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _blocks(path: Path) -> list[tuple[str, str]]:
    """(language, body) of every fenced code block."""
    return [(m.group(1), m.group(2)) for m in FENCE.finditer(path.read_text(encoding="utf-8"))]


def _readme() -> str:
    return README.read_text(encoding="utf-8")


def _cli_commands() -> set[str]:
    return set(get_command(app).commands)


# -- generated sections -------------------------------------------------------------------
def test_generated_docs_are_in_sync(capsys):
    make_docs = _load_module("make_docs", ROOT / "docs" / "make_docs.py")
    status = make_docs.main(["--check"])
    out = capsys.readouterr().out
    assert status == 0, out


def test_readme_has_the_generated_and_bench_blocks():
    text = _readme()
    for name in ("optimizers", "equations", "surfaces", "bench"):
        assert text.count(f"<!-- BEGIN {name} -->") == 1, name
        assert text.count(f"<!-- END {name} -->") == 1, name
        assert text.index(f"<!-- BEGIN {name} -->") < text.index(f"<!-- END {name} -->")


# -- configs ------------------------------------------------------------------------------
def test_readme_quotes_the_config_schema():
    bodies = [body for lang, body in _blocks(README) if lang == "text"]
    assert SCHEMA in bodies, "README.md's schema block differs from optiviz.config.SCHEMA"


def test_every_config_the_docs_name_exists():
    named = set()
    for path in DOCS:
        named |= set(re.findall(r"configs/([\w.-]+\.ya?ml)", path.read_text(encoding="utf-8")))
    assert named, "the README names no config"
    missing = sorted(n for n in named if not (ROOT / "configs" / n).is_file())
    assert not missing, f"configs named in the docs but missing: {missing}"


def _complete_configs(path: Path) -> list[dict]:
    out = []
    for lang, body in _blocks(path):
        if lang not in ("yaml", "yml"):
            continue
        try:
            data = yaml.safe_load(body)
        except yaml.YAMLError:
            continue  # illustrative fragments (several alternatives of one key)
        if isinstance(data, dict) and "optimizers" in data:
            out.append(data)
    return out


def test_complete_configs_in_the_readme_validate():
    configs = _complete_configs(README)
    assert len(configs) >= 2
    for data in configs:
        parse_config(data, "README.md")  # raises ConfigError with every problem


def test_readme_quickstart_listing_is_the_config():
    quick = yaml.safe_load((ROOT / "configs" / "quickstart.yaml").read_text(encoding="utf-8"))
    shown = [c for c in _complete_configs(README) if c.get("name") == "quickstart"]
    assert shown == [quick], "README.md's quickstart listing differs from configs/quickstart.yaml"


# -- links and the gallery ----------------------------------------------------------------
def test_local_links_resolve():
    link = re.compile(r"\]\(([^)\s]+)\)")
    for path in DOCS:
        for target in link.findall(path.read_text(encoding="utf-8")):
            if re.match(r"^[a-z]+:", target) or target.startswith("#"):
                continue
            file = target.split("#", 1)[0]
            assert (path.parent / file).exists(), f"{path.name}: broken link {target}"


def test_gallery_images_exist_and_all_are_shown():
    shown = set(re.findall(r"docs/gallery/([\w.-]+\.png)", _readme()))
    assert len(shown) >= 6
    on_disk = {p.name for p in GALLERY.glob("*.png")}
    assert shown <= on_disk, f"README shows missing images: {sorted(shown - on_disk)}"
    assert on_disk <= shown, f"gallery images the README does not show: {sorted(on_disk - shown)}"


def test_gallery_matches_its_generator_and_stays_small():
    gallery = _load_module("make_gallery", ROOT / "docs" / "make_gallery.py")
    names = {name for _config, _stem, name, _caption in gallery.GALLERY}
    names |= {name for _config, name, _caption in gallery.STEP_GALLERY}
    assert names == {p.name for p in GALLERY.glob("*.png")}
    for config, _stem, _name, _caption in gallery.GALLERY:
        assert (ROOT / "configs" / f"{config}.yaml").is_file()
    sizes = [p.stat().st_size for p in GALLERY.glob("*.png")]
    assert max(sizes) < 200_000 and sum(sizes) < 2_000_000
    for p in GALLERY.glob("*.png"):
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", p.name


# -- commands -----------------------------------------------------------------------------
def _command_lines(path: Path) -> list[str]:
    """Text that shows optiviz commands: non-Python code blocks and inline code spans."""
    text = path.read_text(encoding="utf-8")
    lines = []
    for lang, body in _blocks(path):
        if lang in ("yaml", "yml"):  # values are prose ("source: optiviz built-in ..."),
            lines += [ln.split("#", 1)[1] for ln in body.splitlines() if "#" in ln]  # comments
        elif lang != "python":
            lines += body.splitlines()
    prose = FENCE.sub("", text)
    lines += [span for span in re.findall(r"`([^`\n]+)`", prose) if "optiviz" in span]
    return lines


def test_every_optiviz_command_shown_exists():
    commands = _cli_commands()
    seen = set()
    for path in DOCS:
        for line in _command_lines(path):
            for word in COMMAND.findall(line):
                assert word in commands, f"{path.name}: 'optiviz {word}' is not a command: {line}"
                seen.add(word)
    # the tour shows every command
    assert seen >= {"run", "report", "step", "list", "describe", "validate", "init"}


def test_list_targets_and_described_names_exist():
    from optiviz.library import available_surfaces
    from optiviz.optimizers import available
    from optiviz.schedules import available_schedules

    names = set(available()) | set(available_surfaces()) | set(available_schedules())
    for path in DOCS:
        for line in _command_lines(path):
            for what in re.findall(r"optiviz list ([a-z]\w*)", line):
                assert what in ("optimizers", "surfaces", "schedules"), line
            for name in re.findall(r"optiviz describe ([a-z]\w*)", line):
                assert name in names, f"{path.name}: unknown name in {line}"


def _console_transcripts() -> list[tuple[list[str], str]]:
    """(argv, quoted output) of every ``$ optiviz ...`` command in README console blocks."""
    out = []
    for lang, body in _blocks(README):
        if lang != "console":
            continue
        current = None
        for line in body.splitlines():
            if line.startswith("$ "):
                current = [line[2:].split("  #")[0].strip(), []]
                out.append(current)
            elif current is not None:
                current[1].append(line)
    return [(shlex.split(cmd), "\n".join(lines)) for cmd, lines in out]


def test_quoted_outputs_are_real():
    """Commands quoted in full (no '...', no files) print exactly what the README shows."""
    runner = CliRunner()
    checked = []
    for argv, quoted in _console_transcripts():
        if (
            argv[0] != "optiviz"
            or "..." in quoted
            or any(a.endswith((".yaml", ".yml")) for a in argv)
            or argv[1] in ("run", "init")
        ):
            continue
        result = runner.invoke(app, argv[1:])
        assert result.exit_code == 0, (argv, result.output)
        assert result.output.rstrip("\n") == quoted.rstrip("\n"), " ".join(argv)
        checked.append(argv[1])
    assert {"report", "step", "describe"} <= set(checked), checked


# -- the Python API snippet ---------------------------------------------------------------
def test_python_snippet_runs(tmp_path, monkeypatch):
    snippets = [body for lang, body in _blocks(README) if lang == "python"]
    assert snippets, "README.md shows no Python"
    monkeypatch.chdir(tmp_path)
    for code in snippets:
        exec(compile(code, "README.md", "exec"), {"__name__": "readme_snippet"})
    assert (tmp_path / "adam-rosenbrock.png").is_file()
