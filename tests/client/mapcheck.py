#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Checks of `memtrace map`'s SVG and HTML, for cli-tests.sh and browser-tests.sh.

Usage: mapcheck.py CHECK FILE [ARGS...]; exit 0 if the check holds, else 1
with the reason on stderr. FILE is what memtrace wrote, or what a browser
made of it (chromium --dump-dom), or, for pixels, a PNG screenshot.

  xml FILE                 FILE is well-formed XML (the SVG)
  clean FILE               one <script> at most (the page's own), only the
                           elements and attributes memtrace writes, no
                           reference to anything outside the file
  labels FILE NAME...      a band is labelled with each NAME, as it is
  band FILE START PS STATE...  the band at START has one cell a page
                           (PS bytes) in these states, in order, and each
                           cell's hover text names its address, its state
                           and the band's mapping
  bounded FILE             at most 32768 cells (but a row a band), 16 rows
                           a band, each band's scale a power of two that
                           its cells times its scale cover, and said
  scaled FILE START SCALE  the band at START has SCALE pages a cell, says so,
                           and its cells' hover texts count their pages
  tip FILE START INDEX WORD...  cell INDEX of the band at START has each
                           WORD in its hover text
  pixels PNG FILE [START [STATE...]]  in the screenshot PNG of FILE, the
                           middle of every cell (of the band at START) and of
                           every legend swatch has the fill FILE gives it,
                           the colours are the documented ones, and the band's
                           cells are in the documented colours of STATEs
  hover CHROMIUM HTML PNG  load HTML in headless CHROMIUM (DevTools over
                           a pipe), move the pointer to the middle of the
                           first cell of the band at START (env MAP_START),
                           print the tooltip's text, and save a screenshot
"""
import fcntl
import html.parser
import json
import os
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
import zlib

COLS, ROWS, CELLS, PITCH, CELL = 64, 16, 32768, 12, 11
COLOURS = {"unmapped": "#ffffff", "none": "#d4d4d4", "zero": "#3fa7d6",
           "present": "#2e9e44", "swap": "#f0a30a", "migration": "#a64dc4",
           "other": "#d7301f", "huge": "#145a24"}
ELEMENTS = {"html", "head", "meta", "title", "style", "body", "svg", "g", "rect",
            "text", "tspan", "div", "script"}
ATTRS = {"lang", "charset", "width", "height", "viewbox", "xmlns", "x", "y", "class",
         "fill", "stroke", "stroke-width", "data-tip", "data-start", "data-end",
         "data-scale", "id", "role"}


class Node:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent = tag, dict(attrs), parent
        self.kids, self.text = [], ""

    def cls(self):
        return (self.attrs.get("class") or "").split()

    def all_text(self):
        return self.text + "".join(k.all_text() for k in self.kids)

    def walk(self):
        yield self
        for k in self.kids:
            yield from k.walk()


class Parser(html.parser.HTMLParser):
    """A tree of the elements; text goes to the innermost open element."""
    VOID = {"meta"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", [], None)
        self.cur = self.root

    def handle_starttag(self, tag, attrs):
        n = Node(tag, attrs, self.cur)
        self.cur.kids.append(n)
        if tag not in self.VOID:
            self.cur = n

    def handle_startendtag(self, tag, attrs):
        self.cur.kids.append(Node(tag, attrs, self.cur))

    def handle_endtag(self, tag):
        n = self.cur
        while n is not self.root and n.tag != tag:
            n = n.parent
        if n is not self.root:
            self.cur = n.parent

    def handle_data(self, data):
        self.cur.text += data


def tree(path):
    p = Parser()
    with open(path, encoding="utf-8", errors="strict") as f:
        p.feed(f.read())
    p.close()
    return p.root


def fail(msg):
    sys.stderr.write("mapcheck: " + msg + "\n")
    sys.exit(1)


def bands(root):
    return [n for n in root.walk() if n.tag == "g" and "band" in n.cls()]


def band_at(root, start):
    for b in bands(root):
        if int(b.attrs["data-start"], 16) == int(start, 16):
            return b
    fail(f"no band starts at {start}")


def cells(node):
    return [n for n in node.walk() if n.tag == "rect" and "cell" in n.cls()]


def tip(cell):
    if "data-tip" in cell.attrs:
        return cell.attrs["data-tip"]
    t = [k for k in cell.kids if k.tag == "title"]
    return t[0].all_text() if t else ""


def label(band):
    for n in band.walk():
        if n.tag == "text" and "name" in n.cls():
            t = [k for k in n.kids if k.tag == "title"]
            return t[0].all_text() if t else n.all_text()
    return None


def check_xml(path):
    try:
        ET.parse(path)
    except ET.ParseError as e:
        fail(f"{path}: not well-formed XML: {e}")


def check_clean(path):
    root = tree(path)
    scripts = [n for n in root.walk() if n.tag == "script"]
    if len(scripts) > 1 or (scripts and not scripts[0].text.startswith("\n(function () {")):
        fail(f"{len(scripts)} <script> elements, or not the page's")
    for n in root.walk():
        if n.tag == "#root":
            continue
        if n.tag not in ELEMENTS:
            fail(f"an element memtrace does not write: <{n.tag}>")
        bad = [a for a in n.attrs if a.lower() not in ATTRS]
        if bad:
            fail(f"<{n.tag}> has attributes memtrace does not write: {bad}")
        code = [n.text] if n.tag in ("style", "script") else []
        code += [v or "" for a, v in n.attrs.items() if a not in ("xmlns", "data-tip")]
        for ref in ("://", "url(", "@import", "fetch(", "XMLHttpRequest", "src"):
            if any(ref in c for c in code):
                fail(f"<{n.tag}>: a reference outside the file: {ref!r}")


def check_labels(path, names):
    have = [label(b) for b in bands(tree(path))]
    for name in names:
        if name not in have:
            fail(f"no band labelled {name!r}; labels: {have!r}")


def check_band(path, start, ps, states):
    b = band_at(tree(path), start)
    cs, ps = cells(b), int(ps)
    got = [c.cls()[1] for c in cs]
    if got != states:
        fail(f"band {start}: cells {got}, want {states}")
    name = label(b)
    for k, c in enumerate(cs):
        t = tip(c).split("\n")
        want = f"0x{int(start, 16) + k * ps:x}"
        if t[0] != want or t[1] != "state: " + states[k] or \
                not t[-1].startswith("mapping: " + name + " ("):
            fail(f"cell {k}: hover text {t!r}, want {want}, {states[k]}, {name!r}")


def check_bounded(path):
    bs = bands(tree(path))
    total = sum(len(cells(b)) for b in bs)
    if total > max(CELLS, COLS * len(bs)):
        fail(f"{total} cells in {len(bs)} bands")
    for b in bs:
        n, scale = len(cells(b)), int(b.attrs["data-scale"])
        pages = (int(b.attrs["data-end"], 16) - int(b.attrs["data-start"], 16)) // \
            os.sysconf("SC_PAGE_SIZE")
        said = f"\u00d7{scale}: a cell is" in b.all_text()
        if n > COLS * ROWS or scale & (scale - 1) or (n - 1) * scale >= pages or \
                n * scale < pages or said != (scale > 1):
            fail(f"band {b.attrs['data-start']}: {n} cells of {scale} for {pages} pages")


def check_scaled(path, start, scale):
    b = band_at(tree(path), start)
    if b.attrs["data-scale"] != scale or f"\u00d7{scale}: a cell is" not in b.all_text():
        fail(f"band {start}: scale {b.attrs['data-scale']}, want {scale}, said")
    for c in cells(b)[:-1]:
        if f"({scale} pages, " not in tip(c).split("\n")[0]:
            fail(f"a cell's hover text does not say its {scale} pages: {tip(c)!r}")


def check_tip(path, start, index, words):
    t = tip(cells(band_at(tree(path), start))[int(index)])
    for w in words:
        if w not in t:
            fail(f"cell {index}: {w!r} not in its hover text {t!r}")


def png(path):
    """(width, height, rows of bytes, bytes a pixel) of an 8-bit RGB(A) PNG."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        fail(f"{path}: not a PNG")
    pos, idat = 8, b""
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, lace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or ctype not in (2, 6) or lace:
                fail(f"{path}: PNG depth {depth} type {ctype} interlace {lace}")
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw, bpp = zlib.decompress(idat), 3 if ctype == 2 else 4
    stride, rows, prev = w * bpp, [], bytearray(w * bpp)
    for y in range(h):
        ft, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if ft == 1:
                line[i] = (line[i] + a) & 255
            elif ft == 2:
                line[i] = (line[i] + b) & 255
            elif ft == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif ft == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line)
        prev = line
    return w, h, rows, bpp


def pixel(img, x, y):
    w, h, rows, bpp = img
    if not (0 <= x < w and 0 <= y < h):
        fail(f"pixel {x},{y} outside the {w}x{h} screenshot")
    r = rows[y]
    return "#%02x%02x%02x" % (r[x * bpp], r[x * bpp + 1], r[x * bpp + 2])


def near(a, b):
    return all(abs(int(a[i:i + 2], 16) - int(b[i:i + 2], 16)) <= 2 for i in (1, 3, 5))


def check_pixels(shot, path, start=None, *states):
    img, root = png(shot), tree(path)
    rects = cells(band_at(root, start)) if start else cells(root)
    for k, st in enumerate(states):
        x, y = int(rects[k].attrs["x"]) + CELL // 2, int(rects[k].attrs["y"]) + CELL // 2
        if len(rects) != len(states) or not near(pixel(img, x, y), COLOURS[st]):
            fail(f"cell {k} of {len(rects)}: {pixel(img, x, y)}, want {st} {COLOURS[st]}")
    rects += [n for n in root.walk() if n.tag == "rect" and "key" in n.cls()]
    for r in rects:
        x, y = int(r.attrs["x"]) + CELL // 2, int(r.attrs["y"]) + CELL // 2
        got, want = pixel(img, x, y), r.attrs["fill"]
        if not near(got, want):
            fail(f"{r.cls()} at {x},{y}: {got} in the screenshot, {want} in the file")
        kind = r.cls()[1]
        if kind in COLOURS and "mixed" not in r.cls() and \
                want != COLOURS["huge" if "huge" in r.cls() else kind]:
            fail(f"{r.cls()}: {want}, documented {COLOURS[kind]}")
    print(f"{len(rects)} cells and swatches agree")


class Cdp:
    """Chromium's DevTools protocol over --remote-debugging-pipe (fds 3, 4)."""

    def __init__(self, chromium, url):
        to_r, to_w = os.pipe()
        from_r, from_w = os.pipe()
        self.proc = subprocess.Popen(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             "--remote-debugging-pipe", "--window-size=1200,900", "about:blank"],
            pass_fds=(3, 4), stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=lambda: self.fds(to_r, from_w))
        os.close(to_r)
        os.close(from_w)
        self.w, self.r, self.buf, self.n = os.fdopen(to_w, "wb"), os.fdopen(from_r, "rb"), b"", 0
        tid = self.call("Target.createTarget", url=url)["targetId"]
        self.sid = self.call("Target.attachToTarget", targetId=tid, flatten=True)["sessionId"]

    @staticmethod
    def fds(r, w):
        """In the child: r as fd 3 (its commands), w as fd 4 (its answers)."""
        r, w = fcntl.fcntl(r, fcntl.F_DUPFD, 10), fcntl.fcntl(w, fcntl.F_DUPFD, 10)
        os.dup2(r, 3)
        os.dup2(w, 4)

    def call(self, method, session=None, **params):
        self.n += 1
        msg = {"id": self.n, "method": method, "params": params}
        if session:
            msg["sessionId"] = session
        self.w.write(json.dumps(msg).encode() + b"\0")
        self.w.flush()
        while True:
            while b"\0" not in self.buf:
                more = self.r.read1(65536)
                if not more:
                    fail(f"chromium closed the pipe during {method}")
                self.buf += more
            line, self.buf = self.buf.split(b"\0", 1)
            m = json.loads(line)
            if m.get("id") == self.n:
                if "error" in m:
                    fail(f"{method}: {m['error']}")
                return m["result"]

    def page(self, method, **params):
        return self.call(method, self.sid, **params)

    def eval(self, expr):
        return self.page("Runtime.evaluate", expression=expr, returnByValue=True)["result"].get("value")

    def close(self):
        try:
            self.call("Browser.close")
        except SystemExit:
            pass
        self.proc.wait(timeout=20)


def check_hover(chromium, page, shot):
    import base64
    import time
    c = Cdp(chromium, "file://" + os.path.abspath(page))
    try:
        for _ in range(100):
            if c.eval("location.protocol + document.readyState") == "file:complete":
                break
            time.sleep(0.1)
        sel = f'g.band[data-start="{os.environ["MAP_START"]}"] rect.cell'
        box = c.eval(f"(function () {{ var e = document.querySelector('{sel}'), r;"
                     "if (!e) return null; e.scrollIntoView({block: 'center'});"
                     "r = e.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2];"
                     "})()")
        if not box:
            fail(f"no cell {sel}")
        c.page("Input.dispatchMouseEvent", type="mouseMoved", x=box[0], y=box[1])
        tip = c.eval("(function () { var t = document.getElementById('tip');"
                     "return getComputedStyle(t).display + '|' + t.textContent; })()")
        data = c.page("Page.captureScreenshot", format="png")["data"]
        with open(shot, "wb") as f:
            f.write(base64.b64decode(data))
    finally:
        c.close()
    display, _, text = tip.partition("|")
    if display != "block":
        fail(f"the tooltip is not shown on hover (display {display})")
    sys.stdout.write(text + "\n")


def main():
    a = sys.argv[1:]
    checks = {"xml": lambda: check_xml(a[1]), "clean": lambda: check_clean(a[1]),
              "labels": lambda: check_labels(a[1], a[2:]),
              "band": lambda: check_band(a[1], a[2], a[3], a[4:]),
              "bounded": lambda: check_bounded(a[1]),
              "scaled": lambda: check_scaled(a[1], a[2], a[3]),
              "tip": lambda: check_tip(a[1], a[2], a[3], a[4:]),
              "pixels": lambda: check_pixels(*a[1:]),
              "hover": lambda: check_hover(a[1], a[2], a[3])}
    if not a or a[0] not in checks:
        sys.stderr.write(__doc__)
        sys.exit(2)
    checks[a[0]]()


main()
