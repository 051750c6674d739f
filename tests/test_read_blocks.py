"""pointsfile.read_chunks reads whole blocks: line numbers, blank lines, \\r\\n and
chunk boundaries come out as a line-by-line reading gives them."""

import io
import os
import select

import numpy as np
import pointsfile_by_lines as by_lines
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gradcalc import pointsfile

TEXT = "\ufeffx,y\r\n1,2\r\n\r\n \t\n3.5, -1\n  4,5\n\n6e-1,7\n8,9\r\n10,11"  # no final newline


def _by_hand(text):
    """(line number, x, y) of each point, read line by line with str methods."""
    out = []
    for number, line in enumerate(text.lstrip("\ufeff").split("\n"), start=1):
        line = line.removesuffix("\r")
        if number == 1 or not line.strip(" \t"):
            continue
        x, y = (float(f) for f in line.split(","))
        out.append((number, x, y))
    return out


@pytest.mark.parametrize("block", [1, 2, 3, 7, 1 << 20])
@pytest.mark.parametrize("size", [1, 2, 4, 50_000])
def test_blocks_and_chunks_number_lines_as_an_editor_does(monkeypatch, block, size):
    monkeypatch.setattr(pointsfile, "BLOCK", block)
    stream = io.BufferedReader(io.BytesIO(TEXT.encode()))
    chunks = list(pointsfile.read_chunks(stream, "p", size=size))
    assert all(len(c) <= size for c in chunks)
    got = [
        (int(n), float(x), float(y))
        for c in chunks
        for n, x, y in zip(c.lines, c.columns["x"], c.columns["y"])
    ]
    assert got == _by_hand(TEXT)


def test_a_bad_line_is_named_by_its_number_across_blocks(monkeypatch):
    monkeypatch.setattr(pointsfile, "BLOCK", 5)
    text = "x\n1\n\n2\n3\nfour\n5\n"
    with pytest.raises(pointsfile.PointError, match="line 6: x='four' is not a number"):
        list(pointsfile.read_chunks(io.BufferedReader(io.BytesIO(text.encode())), "p"))


def test_json_lines_read_in_blocks(monkeypatch):
    monkeypatch.setattr(pointsfile, "BLOCK", 4)
    text = '\n{"x": 1}\n\n{"x": 2.5}\r\n'
    (chunk,) = pointsfile.read_chunks(io.BufferedReader(io.BytesIO(text.encode())), "p")
    assert chunk.lines.tolist() == [2, 4]
    assert np.array_equal(chunk.columns["x"], [1.0, 2.5])


def test_rows_whose_commas_balance_out_are_not_read_as_points():
    """1,2,3 then 4 are three values and one, not two points of two: the
    number of values of the chunk matched, line by line it does not (main
    read them as (1, 2) and (3, 4))."""
    for block in (1 << 20, 5):
        pointsfile.BLOCK = block
        with pytest.raises(pointsfile.PointError, match=r"^p line 2: 3 values, but the header"):
            pointsfile.read("x,y\n1,2,3\n4\n", "p")
    pointsfile.BLOCK = 1 << 20


def test_a_line_of_spaces_is_blank_beside_a_line_opening_with_a_control_byte():
    """The line of spaces is skipped wherever the blocks end, and the line
    that is not a number named (main named the blank line in one block)."""
    message = r"^p line 4: x='\\x0b2' is not a number"
    with pytest.raises(pointsfile.PointError, match=message):
        pointsfile.read("x\n1\n  \n\x0b2\n", "p")


# The block reader against the line-based one (pointsfile_by_lines, main's
# code): the same chunks (names, float64 bits, line numbers, paused), the same
# error after the same points, over inputs mixing plain rows with everything
# that sends a block or a chunk back to lines.
EXAMPLES = int(os.environ.get("GRADCALC_FUZZ_EXAMPLES", "150"))
SAME = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize="GRADCALC_FUZZ_EXAMPLES" not in os.environ,
    suppress_health_check=[HealthCheck.too_slow],
)
_WORDS = """0 1 -1 2.5 -0 -0.0 0.0 -00 -007 1. .5 +1 +.5e+3 007 1e5 1E-5 -0e0 1e-0 1e-400
1e999 -1e999 nan NaN inf -Infinity oops - e 1e 1..2 +-1 true null [1] {} 0x10 1_0 #
9007199254740993 18446744073709551617 1111111111111111111111111111111"""
ODD = [
    *_WORDS.split(),
    *["", " 2 ", "\t3", " -0", "-0 ", "1 5", "\uff11", "1\xa0", "\x0b2", "1\r2", '"1"'],
]
FIELD = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).map(lambda v: repr(v).encode()),
    st.integers(-(10**25), 10**25).map(lambda v: str(v).encode()),
    st.sampled_from([f.encode() for f in ODD] + [b"\xff", b"\xef\xbb\xbf1"]),
)
BLANK = st.sampled_from([b"", b" ", b"  ", b"\t", b" \t ", b"\r"])
ENDING = st.sampled_from([b"\n"] * 6 + [b"\r\n"] * 2 + [b"\r\r\n"])


@st.composite
def _csv_inputs(draw):
    header = draw(st.sampled_from([b"x", b"x,y", b"x,y,z", b" x , y ", b"x,x", b"1x", b"x,"]))
    columns = header.count(b",") + 1
    plain = st.lists(FIELD.filter(lambda f: f[:1].isdigit() or f[:1] == b"-"), min_size=1)
    lines = [*draw(st.lists(BLANK, max_size=2)), header]
    for _ in range(draw(st.integers(0, 40))):
        kind = draw(st.sampled_from(["plain"] * 6 + ["odd", "blank", "count"]))
        if kind == "blank":
            lines.append(draw(BLANK))
            continue
        fields = draw(st.lists(FIELD, min_size=columns, max_size=columns))
        if kind == "plain":  # numbers as a writer writes them
            fields = [repr(float(draw(st.floats(-1e300, 1e300)))).encode() for _ in fields]
        elif kind == "count":
            fields = fields[1:] if draw(st.booleans()) else [*fields, *draw(plain)[:2]]
        lines.append(b",".join(fields))
    body = b"".join(line + draw(ENDING) for line in lines)
    if draw(st.booleans()):
        body = body.rstrip(b"\n")  # no final newline
    return (pointsfile._BOM if draw(st.booleans()) else b"") + body


@st.composite
def _json_inputs(draw):
    point = st.sampled_from(
        [b'{"x": 1}', b'{"x": -0}', b'{"x": 2.5, "y": -1e-3}', b'{"y": 2}', b'{"x": 1e999}']
        + [b'{"x": "1"}', b"[1]", b"x", b'{"x": 1, "x": 2}', b'{"x": true}', b' {"x": 3} ']
    )
    lines = draw(st.lists(st.one_of(point, BLANK), max_size=30))
    return b"".join(line + draw(ENDING) for line in [b'{"x": 0}', *lines])


class _Pipe(io.BytesIO):
    """A stream with a descriptor, so the reader asks select() whether more
    has come; select is scripted in `_outcome`."""

    def fileno(self):
        return 0


def _outcome(read_chunks, data, size, pauses, kind=None):
    """What a reader gives: each chunk (names, float64 bits, line numbers,
    paused), then the error it raised (its type and message), if any."""
    script = iter(pauses)
    got = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(select, "select", lambda r, w, x, t: (r if next(script, True) else [], w, x))
        try:
            for chunk in read_chunks(io.BufferedReader(_Pipe(data)), "p", size=size, kind=kind):
                columns = {
                    n: (c.dtype.str, c.view(np.int64).tolist()) for n, c in chunk.columns.items()
                }
                got.append(
                    (
                        chunk.names,
                        columns,
                        chunk.lines.dtype.str,
                        chunk.lines.tolist(),
                        chunk.paused,
                    )
                )
        except Exception as error:
            got.append((type(error).__name__, str(error)))
    return got


def _same_as_by_lines(data, block, size, pauses, max_line=1 << 20, kind=None):
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pointsfile, "BLOCK", block)
        patch.setattr(pointsfile, "MAX_LINE", max_line)
        want = _outcome(by_lines.read_chunks, data, size, pauses, kind)
        got = _outcome(pointsfile.read_chunks, data, size, pauses, kind)
    assert got == want
    return got


BLOCKS = st.sampled_from([1, 2, 3, 5, 8, 13, 32, 64, 200, 1 << 20])
SIZES = st.sampled_from([1, 2, 3, 7, 50_000])
PAUSES = st.lists(st.booleans(), max_size=20)


KINDS = st.sampled_from([None, None, "csv", "jsonl"])  # as --input-format says, or not


@SAME
@given(data=_csv_inputs(), block=BLOCKS, size=SIZES, pauses=PAUSES, kind=KINDS)
def test_csv_reads_as_line_by_line(data, block, size, pauses, kind):
    _same_as_by_lines(data, block, size, pauses, kind=kind)


@SAME
@given(data=_json_inputs(), block=BLOCKS, size=SIZES, pauses=PAUSES, kind=KINDS)
def test_json_lines_read_as_line_by_line(data, block, size, pauses, kind):
    _same_as_by_lines(data, block, size, pauses, kind=kind)


@SAME
@given(data=_csv_inputs(), block=st.sampled_from([3, 16, 64]), max_line=st.integers(1, 24))
def test_a_line_too_long_is_named_as_line_by_line(data, block, max_line):
    _same_as_by_lines(data, block, 3, [], max_line)


def test_many_rows_with_a_few_odd_ones_read_as_line_by_line():
    """Tables of many blocks, and odd lines falling in the middle of blocks
    and chunks: chunks made of table and lines alike, and a pause."""
    rng = np.random.default_rng(5)
    rows = [f"{a!r},{b!r}".encode() for a, b in rng.normal(0, 1e3, (3000, 2)).tolist()]
    for at, odd in [(500, b""), (1200, b"1, 2"), (1201, b"-0,7"), (2000, b"3,4\r")]:
        rows[at] = odd
    data = b"x,y\n" + b"\n".join(rows) + b"\n"
    for block, size in [(4096, 256), (1000, 700), (1 << 20, 1000)]:
        got = _same_as_by_lines(data, block, size, [True, True, False] * 9)
        assert sum(len(chunk[3]) for chunk in got) == 2999
        assert any(chunk[4] for chunk in got) == (block < 1 << 20)  # a pause met
    bad = data.replace(b"\n3,4\r\n", b"\n3,inf\n")
    got = _same_as_by_lines(bad, 4096, 256, [])
    assert got[-1] == ("PointError", "p line 2002: y=inf is not a finite number")
