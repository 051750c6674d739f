"""pointsfile.read_chunks reads whole blocks: line numbers, blank lines, \\r\\n and
chunk boundaries come out as a line-by-line reading gives them."""

import io

import numpy as np
import pytest

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
