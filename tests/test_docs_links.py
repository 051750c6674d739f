"""The documentation stands on its own: its links lead somewhere, it names no
file outside the repository, and ARCHITECTURE.md names only what exists."""

import importlib
import importlib.util
import pkgutil
import re
import shutil
import subprocess
import types

import pytest
from conftest import ROOT

PAGES = ["README.md"] + sorted(p.relative_to(ROOT).as_posix() for p in ROOT.glob("docs/*.md"))

FENCE = re.compile(r"^(```|~~~).*?^\1[ \t]*$", re.M | re.S)
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")


def prose(text):
    """Markdown without its fenced blocks and inline code: what links live in."""
    text = FENCE.sub("", text)
    return re.sub(r"`[^`\n]*`", "", text)


def slug(heading):
    """GitHub's anchor for a heading: lower case, punctuation dropped (the
    hyphen and underscore kept), spaces to hyphens; links keep their text."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip()).lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path):
    """Every heading's anchor in a Markdown file (repeats get -1, -2, ...)."""
    seen: dict = {}
    out = set()
    for heading in re.findall(r"^#{1,6}[ \t]+(.+?)[ \t#]*$", FENCE.sub("", path.read_text()), re.M):
        base = slug(heading)
        count = seen.get(base, 0)
        seen[base] = count + 1
        out.add(base if count == 0 else f"{base}-{count}")
    return out


def relative_links(page):
    for target in LINK.findall(prose((ROOT / page).read_text())):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):  # https:, mailto: ...
            continue
        yield target


@pytest.mark.parametrize("page", PAGES)
def test_relative_links_resolve(page):
    """Every relative link leads to a file or folder inside the repository,
    and an anchor to a heading of the Markdown file it names."""
    assert PAGES.count(page) == 1
    source = ROOT / page
    broken = []
    for target in relative_links(page):
        path_part, _, anchor = target.partition("#")
        path = (source.parent / path_part).resolve() if path_part else source
        if not path.is_relative_to(ROOT.resolve()) or not path.exists():
            broken.append(f"{target}: no such file in the repository")
        elif anchor and path.suffix == ".md" and anchor not in anchors(path):
            broken.append(f"{target}: {path.name} has no heading #{anchor}")
    assert not broken, f"{page}: " + "; ".join(broken)


def linked_files(page):
    """The repository-relative files a page links to."""
    source = ROOT / page
    out = set()
    for target in relative_links(page):
        path_part = target.partition("#")[0]
        if path_part:
            out.add((source.parent / path_part).resolve().relative_to(ROOT.resolve()).as_posix())
    return out


@pytest.mark.parametrize("index", ["README.md", "docs/README.md"])
def test_every_docs_page_is_linked_from_the_indexes(index):
    """README.md and docs/README.md each link every page of docs/, and README.md
    the project's own documents."""
    wanted = set(PAGES) - {"README.md", index}
    if index == "README.md":
        wanted |= {"ARCHITECTURE.md", "SECURITY.md", "CHANGELOG.md"}
    assert sorted(wanted - linked_files(index)) == []


def test_link_checker_sees_links_and_anchors(tmp_path):
    """The checker's own parts, on a made-up page: links in prose are found,
    links in code are not, and anchors are GitHub's."""
    text = (
        "See [a](docs/x.md#the-grammar), ![img](a.png) and [b](https://example.org).\n"
        "`[not](inline.md)`\n```\n[not](fenced.md)\n```\n"
    )
    assert LINK.findall(prose(text)) == ["docs/x.md#the-grammar", "a.png", "https://example.org"]
    page = tmp_path / "x.md"
    page.write_text("# The grammar\n## `--answer`: check it\n## Under `--json`\n## A\n## A\n")
    assert anchors(page) == {
        "the-grammar",
        "--answer-check-it",
        "under---json",
        "a",
        "a-1",
    }


# --- no file outside the repository is named ------------------------------------

# Built from pieces, so that this file does not name them itself. A name of
# the repository's own (the SPECIAL table of gradcalc/cas) is no mention: the
# abbreviation is matched as a word.
OUTSIDE = [
    r"\b" + "sha" + "red/",  # the folder beside the repository, or a path into it
    r"\b" + "SP" + r"EC\b",
    re.escape("STY" + "LE.md"),
    re.escape("farm-" + "studio"),
    re.escape("farm-" + "bench"),
]
OUTSIDE_RE = re.compile("|".join(OUTSIDE))


def tracked_text_files():
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs a git checkout to list the tracked files")
    listing = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    for name in filter(None, listing.decode().split("\0")):
        path = ROOT / name
        if path.is_symlink() or not path.is_file():
            continue
        data = path.read_bytes()
        if b"\0" in data:  # images and other binaries
            continue
        yield name, data.decode("utf-8", errors="replace")


def mentions(files):
    return [
        f"{name}:{number}: {line.strip()[:80]}"
        for name, text in files
        for number, line in enumerate(text.splitlines(), 1)
        if OUTSIDE_RE.search(line)
    ]


def test_no_tracked_file_names_an_outside_file():
    files = list(tracked_text_files())
    assert len(files) > 50  # the listing worked
    assert any(name.startswith("gradcalc/") for name, _ in files)
    assert mentions(files) == []


def test_outside_names_are_caught():
    found = mentions(
        [
            ("a", "see ../" + "sha" + "red/x.txt"),
            ("b", "(SP" + "EC §3)"),
            ("c", "SP" + "ECIAL = {}"),
            ("d", "as STY" + "LE.md asks"),
            ("e", "(sha" + "red/reference/notebook.txt)"),
            ("f", "a tensor with shared memory"),
        ]
    )
    assert [line.split(":")[0] for line in found] == ["a", "b", "d", "e"]


# --- ARCHITECTURE.md names what exists --------------------------------------------

ROOTED = ("gradcalc/", "tests/", "scripts/", "benchmarks/", "examples/", "docs/")
PATH_WORD = re.compile(r"^[\w.-]+(?:/[\w.-]+)*(?:\.py|/)$")
DOTTED_WORD = re.compile(r"^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+(?:\(\))?$")


def architecture_words():
    """The words of every inline code span of ARCHITECTURE.md (outside its
    fenced diagram): `verdict.judge`, `parsing.py`, `cas/`, ..."""
    text = FENCE.sub("", (ROOT / "ARCHITECTURE.md").read_text())
    for span in re.findall(r"`([^`]+)`", text):
        yield from re.split(r"[\s,;]+", span)


def module_paths():
    return sorted({w for w in architecture_words() if PATH_WORD.match(w)})


def dotted_names():
    return sorted(
        {w.removesuffix("()") for w in architecture_words() if DOTTED_WORD.match(w)}
        - set(module_paths())
    )


def resolve(dotted):
    """Import and getattr `dotted`: a gradcalc module's name (`verdict.judge`),
    the package's (`gradcalc.diff`), an installed package's (`torch.func.jacrev`),
    or a class defined in some gradcalc module (`GradcalcError.worded`)."""
    head, *rest = dotted.split(".")
    if head == "gradcalc":
        obj = importlib.import_module("gradcalc")
    elif importlib.util.find_spec(f"gradcalc.{head}") is not None:
        obj = importlib.import_module(f"gradcalc.{head}")
    elif importlib.util.find_spec(head) is not None:
        obj = importlib.import_module(head)
    else:
        import gradcalc

        owners = []
        for info in pkgutil.walk_packages(gradcalc.__path__, "gradcalc."):
            if info.name.endswith("__main__"):  # would run the CLI
                continue
            candidate = importlib.import_module(info.name)
            if head in vars(candidate):
                owners.append(vars(candidate)[head])
        if not owners:
            raise AttributeError(f"no gradcalc module defines {head}")
        obj = owners[0]
    for part in rest:
        if hasattr(obj, part):
            obj = getattr(obj, part)
        elif isinstance(obj, types.ModuleType):
            obj = importlib.import_module(f"{obj.__name__}.{part}")  # a submodule
        else:
            raise AttributeError(f"{dotted}: no {part}")
    return obj


def test_architecture_module_paths_exist():
    """A path in backticks is relative to gradcalc/ unless it starts at the top
    of the repository (tests/, scripts/, ...)."""
    paths = module_paths()
    assert len(paths) > 20  # the reading worked
    missing = [
        p for p in paths if not (ROOT / (p if p.startswith(ROOTED) else f"gradcalc/{p}")).exists()
    ]
    assert missing == []


def test_architecture_dotted_names_exist():
    names = dotted_names()
    assert len(names) > 15  # the reading worked
    missing = []
    for name in names:
        try:
            resolve(name)
        except (ImportError, AttributeError) as error:
            missing.append(f"{name} ({error})")
    assert missing == []


def test_architecture_checker_tells_names_apart():
    """The reader and the resolver, on names that exist and names that do not."""
    assert PATH_WORD.match("render/explain.py") and PATH_WORD.match("cas/")
    assert not PATH_WORD.match("verdict.judge") and DOTTED_WORD.match("cas.choose()")
    assert resolve("verdict.judge") is importlib.import_module("gradcalc.verdict").judge
    assert resolve("errors.ExitCode.OK") is not None
    assert callable(resolve("gradcalc.diff"))
    for missing in ("verdict.no_such_rule", "no_such_module.f", "NoSuchClass.method"):
        with pytest.raises((ImportError, AttributeError)):
            resolve(missing)
