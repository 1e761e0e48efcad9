"""A small PDF text extractor for the tests (no pdftotext or pypdf on these machines).

Enough for WeasyPrint's output: objects (also inside compressed object streams), Type0 fonts with
ToUnicode CMaps, and text shown with Tj/TJ in hex strings. Text objects end with a newline."""

from __future__ import annotations

import re
import zlib

OBJ = re.compile(rb"(\d+) 0 obj(.*?)endobj", re.S)
STREAM = re.compile(rb"stream\r?\n(.*?)\r?\nendstream", re.S)


def _stream(body: bytes) -> bytes | None:
    m = STREAM.search(body)
    if not m:
        return None
    raw = m.group(1)
    if b"FlateDecode" not in body[: m.start()]:
        return raw
    # The pattern's optional "\r" before "endstream" swallows a compressed stream's last byte when that
    # byte is 0x0D (1 stream in 256, so the test was flaky): give it back; a decompressobj keeps any
    # byte past the end of the deflate stream as unused data instead of failing.
    return zlib.decompressobj().decompress(raw + b"\r")


def _objects(data: bytes) -> dict[int, bytes]:
    objs = {int(n): body for n, body in OBJ.findall(data)}
    for body in list(objs.values()):
        if b"/ObjStm" in body[:200] or b"/Type /ObjStm" in body:
            content = _stream(body)
            if content is None:
                continue
            n_match, first_match = re.search(rb"/N (\d+)", body), re.search(rb"/First (\d+)", body)
            if n_match is None or first_match is None:
                continue
            n, first = int(n_match.group(1)), int(first_match.group(1))
            nums = [int(x) for x in content[:first].split()]
            pairs = list(zip(nums[0::2], nums[1::2], strict=True))[:n]
            for i, (num, off) in enumerate(pairs):
                end = pairs[i + 1][1] if i + 1 < len(pairs) else len(content) - first
                objs.setdefault(num, content[first + off: first + end])
    return objs


def _cmap(text: bytes) -> dict[int, str]:
    out: dict[int, str] = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", text, re.S):
        for src, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            out[int(src, 16)] = bytes.fromhex(dst.decode()).decode("utf-16-be", "replace")
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", text, re.S):
        for lo, hi, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            start = int(dst, 16)
            for i, code in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                out[code] = chr(start + i)
    return out


def pdf_text(data: bytes) -> str:
    objs = _objects(data)
    cmaps: dict[int, dict[int, str]] = {}
    for num, body in objs.items():
        m = re.search(rb"/ToUnicode (\d+) 0 R", body)
        if m and int(m.group(1)) in objs:
            cmaps[num] = _cmap(_stream(objs[int(m.group(1))]) or b"")
    names: dict[bytes, int] = {}
    for body in objs.values():
        for name, ref in re.findall(rb"/([^\s/<>\[\]]+)\s+(\d+) 0 R", body):
            if int(ref) in cmaps:  # a font resource name pointing at a font with a ToUnicode map
                names[name] = int(ref)
    out: list[str] = []
    for body in objs.values():
        content = _stream(body) if b"stream" in body else None
        if not content or b"BT" not in content:
            continue
        font: dict[int, str] = {}
        for token in re.finditer(rb"/([^\s/<>\[\]]+)\s+[\d.]+\s+Tf|\[(.*?)\]\s*TJ|<([0-9A-Fa-f]*)>\s*Tj|\bET\b", content,
                                 re.S):
            if token.group(1) is not None:
                font = cmaps.get(names.get(token.group(1), -1), {})
            elif token.group(0) == b"ET":
                out.append("\n")
            else:
                hexes = re.findall(rb"<([0-9A-Fa-f]*)>", token.group(2)) if token.group(2) is not None else [
                    token.group(3)]
                for h in hexes:
                    out.extend(font.get(int(h[i:i + 4], 16), "") for i in range(0, len(h), 4))
    return "".join(out)


def pdf_images(data: bytes) -> list[tuple[int, int]]:
    """(width, height) of every raster image object in the PDF (inside object streams too)."""
    out = []
    for body in _objects(data).values():
        head = body.split(b"stream", 1)[0]
        if re.search(rb"/Subtype\s*/Image", head):
            w, h = re.search(rb"/Width\s+(\d+)", head), re.search(rb"/Height\s+(\d+)", head)
            out.append((int(w.group(1)) if w else 0, int(h.group(1)) if h else 0))
    return out
