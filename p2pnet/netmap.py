"""The network map: who works with whom, laid out and drawn as SVG on the server.

Pure and synchronous. Input is :func:`p2pnet.directory.graph` (members as
nodes; endorsements and shared activities as edges) plus the names to show;
output is a :class:`NetMap` (positions, cut points, each member's ties) and
its SVG. No JavaScript: the SVG is inline in the page, every member is a link
to its page, and the page lists the same ties as text for screen readers.

How it is drawn, so that a reader sees the network's shape at a glance:

* **Layout**: stress majorization (Gansner, Koren and North 2004) in pure
  Python (networkx's layouts need numpy, which the node does not depend
  on): the distance between two members on the page follows how many ties
  apart they are, so groups, bridges and outliers show as they are. Small
  maps are laid out from a few fixed starting points and the one with the
  fewest crossing lines wins; the result is turned so its long side lies
  across the screen. It is deterministic: the same network gives the same
  picture on every node.
* **Labels** sit under their circle, wrapped at Thai/English word breaks
  (ICU), on a white halo; a last pass pushes apart members whose circle+label
  boxes overlap, so no label hides another.
* **Cut points** (``networkx.articulation_points``): members whose leaving
  would split the network; ringed in orange, with how many groups the others
  would fall into. Members who left are drawn grey and do not count.

Large networks are cut to the ``max_nodes`` most connected members (cut
points are still computed on the whole network) and drawn larger than the
screen, to scroll rather than shrink the text.
"""

from __future__ import annotations

import html
import math
import random
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import networkx as nx  # type: ignore[import-untyped]

__all__ = ["MapEdge", "MapNode", "NetMap", "build", "layout", "matched", "svg", "wrap_label"]

MAX_NODES = 120
FONT_SIZE = 13.0
LINE_HEIGHT = 16.0
LABEL_WIDTH = 150.0  # pixels per label line at FONT_SIZE
LABEL_LINES = 3
TIE_PIXELS = 175.0  # the length of a typical tie on the map
FONT_FAMILY = "Sarabun, 'Noto Sans Thai', 'Noto Sans Thai UI', 'Leelawadee UI', Thonburi, Tahoma, Loma, Garuda, sans-serif"  # noqa: E501

# colours: contrast at least 4.5:1 on white for strokes and text
INK = "#1f2937"
ACTIVITY = "#64748b"
ENDORSE = "#15803d"
MEMBER_FILL = "#dbeafe"
MEMBER_STROKE = "#1d4ed8"
OWN_FILL = "#1d4ed8"
CUT = "#c2410c"
LEFT_FILL = "#e5e7eb"
LEFT_STROKE = "#6b7280"
FORK = "#b91c1c"


@dataclass
class MapNode:
    id: str
    name: str
    lines: list[str]
    status: str = "admitted"
    forked: bool = False
    own: bool = False
    cut: bool = False
    splits: int = 0  # groups the others fall into without this member (cut points only)
    degree: int = 0
    x: float = 0.0
    y: float = 0.0
    r: float = 10.0


@dataclass(frozen=True)
class MapEdge:
    a: str
    b: str
    kind: str  # "shared-activities" (undirected, a < b) or "endorsement" (a endorses b)
    weight: int = 1


@dataclass
class NetMap:
    nodes: list[MapNode]
    edges: list[MapEdge]
    width: float
    height: float
    total: int  # members in the network (the map may show fewer)
    components: int  # separate groups among members who have not left
    cut_points: list[str]  # ids, most splitting first
    ties: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def by_id(self) -> dict[str, MapNode]:
        return {n.id: n for n in self.nodes}


# --------------------------------------------------------------------------- labels
def _cells(text: str) -> int:
    """Width in letters: Thai vowel and tone marks above or below a letter take no width."""
    return sum(1 for c in text if unicodedata.category(c) not in ("Mn", "Me", "Cf"))


def text_width(text: str, size: float = FONT_SIZE) -> float:
    """An estimate of the rendered width, enough to keep labels apart."""
    w = 0.0
    for c in text:
        cat = unicodedata.category(c)
        if cat in ("Mn", "Me", "Cf"):
            continue
        if c == " ":
            w += 0.3
        elif "\u0e00" <= c <= "\u0e7f":
            w += 0.58
        elif c.isupper() or c in "mwMW":
            w += 0.68
        else:
            w += 0.52
    return w * size


_OPENERS = "([{“‘«"
_CLOSERS = ")]}”’».,:;!?"


def _break_points(text: str) -> list[int]:
    """Offsets where a line may break: between words (pythainlp's dictionary tokenizer keeps
    Thai compounds such as ผู้สูงอายุ and สุขภาพ whole), never inside brackets' edges."""
    from pythainlp.tokenize import word_tokenize

    points, at = [], 0
    for token in word_tokenize(text, engine="newmm", keep_whitespace=True):
        at += len(token)
        points.append(at)
    return [
        p for p in points
        if p == len(text) or (text[p - 1] not in _OPENERS and text[p] not in _CLOSERS)
    ]  # fmt: skip


def _greedy(text: str, points: list[int], width: float) -> list[str]:
    out: list[str] = []
    start = prev = 0
    for p in points:
        if text_width(text[start:p].strip()) > width and prev > start:
            out.append(text[start:prev].strip())
            start = prev
        prev = p
    out.append(text[start:].strip())
    return [ln for ln in out if ln]


def wrap_label(name: str, width: float = LABEL_WIDTH, lines: int = LABEL_LINES) -> list[str]:
    """``name`` in at most ``lines`` balanced lines of at most about ``width`` pixels,
    broken between words; what does not fit ends in an ellipsis."""
    name = " ".join(name.split())
    total = text_width(name)
    if total <= width:
        return [name]
    points = _break_points(name)
    for count in range(math.ceil(total / width), lines + 1):
        w = total / count
        while w <= width * 1.12:  # a little wider rather than one more line
            out = _greedy(name, points, w)
            if len(out) <= count:
                return out
            w += 4
    out = _greedy(name, points, width)
    if len(out) > lines:
        out = out[:lines]
        last = out[-1]
        while text_width(last + "…") > width and len(last) > 1:
            last = last[:-1]
        out[-1] = last.rstrip() + "…"
    # a single word longer than a line (no break point in it): cut it
    cut = []
    for ln in out:
        if text_width(ln) > width * 1.3:
            while text_width(ln + "…") > width * 1.2 and len(ln) > 1:
                ln = ln[:-1]
            ln += "…"
        cut.append(ln)
    return cut


# --------------------------------------------------------------------------- layout
def _strength(kind: str, weight: int) -> float:
    return 1.0 + math.log2(max(weight, 1)) if kind == "shared-activities" else 0.6


def _distances(n: int, adj: list[dict[int, float]]) -> list[list[float]]:
    """All-pairs shortest path lengths (Dijkstra from each member; ties have lengths ≤ 1).
    Members in separate groups are put a little further apart than the farthest pair."""
    import heapq

    inf = float("inf")
    dist = []
    for src in range(n):
        d = [inf] * n
        d[src] = 0.0
        heap = [(0.0, src)]
        while heap:
            du, u = heapq.heappop(heap)
            if du > d[u]:
                continue
            for v, length in adj[u].items():
                nd = du + length
                if nd < d[v]:
                    d[v] = nd
                    heapq.heappush(heap, (nd, v))
        dist.append(d)
    finite = [x for row in dist for x in row if x != inf]
    far = (max(finite) if finite else 1.0) + 1.0
    return [[x if x != inf else far for x in row] for row in dist]


def layout(
    ids: list[str],
    edges: Iterable[tuple[str, str, float]],
    *,
    iterations: int | None = None,
    seed: int = 0,
) -> dict[str, tuple[float, float]]:
    """Positions in [0, 1]² by stress majorization (Gansner, Koren and North 2004): the
    distance between two members on the page follows the number of ties between them, so
    groups, bridges and outliers show as they are. Deterministic for a given input and seed.

    ``edges``: (a, b, strength); a stronger tie is drawn a little shorter.
    """
    ids = sorted(ids)
    n = len(ids)
    if n == 0:
        return {}
    if n == 1:
        return {ids[0]: (0.5, 0.5)}
    index = {m: i for i, m in enumerate(ids)}
    adj: list[dict[int, float]] = [{} for _ in range(n)]
    for a, b, strength in edges:
        if a in index and b in index and a != b:
            i, j = index[a], index[b]
            length = 1.0 / (1.0 + 0.25 * math.log2(1.0 + strength))
            if length < adj[i].get(j, float("inf")):
                adj[i][j] = adj[j][i] = length
    d = _distances(n, adj)
    w = [[0.0 if i == j else 1.0 / (d[i][j] * d[i][j]) for j in range(n)] for i in range(n)]
    wsum = [sum(row) for row in w]
    rng = random.Random(seed)
    xs = [rng.random() * n**0.5 for _ in range(n)]
    ys = [rng.random() * n**0.5 for _ in range(n)]
    sweeps = iterations or (300 if n <= 40 else 120 if n <= 80 else 60)
    for _ in range(sweeps):
        moved = 0.0
        for i in range(n):
            nx_, ny_ = 0.0, 0.0
            xi, yi = xs[i], ys[i]
            di, wi = d[i], w[i]
            for j in range(n):
                if j == i:
                    continue
                ex, ey = xi - xs[j], yi - ys[j]
                norm = math.hypot(ex, ey)
                if norm < 1e-9:
                    ex, ey, norm = 1e-3 * (1 + (i - j) % 3), 1e-3, 1.5e-3
                nx_ += wi[j] * (xs[j] + di[j] * ex / norm)
                ny_ += wi[j] * (ys[j] + di[j] * ey / norm)
            nx_ /= wsum[i]
            ny_ /= wsum[i]
            moved = max(moved, abs(nx_ - xi) + abs(ny_ - yi))
            xs[i], ys[i] = nx_, ny_
        if moved < 1e-4:
            break
    return _normalise({m: (xs[i], ys[i]) for i, m in enumerate(ids)})


def _normalise(pos: dict[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
    """Rotate to the widest axis (principal component, so the map fills a wide screen) and
    scale both axes alike into [0, 1] (the shorter one ends before 1)."""
    n = len(pos)
    cx = sum(p[0] for p in pos.values()) / n
    cy = sum(p[1] for p in pos.values()) / n
    sxx = sum((p[0] - cx) ** 2 for p in pos.values())
    syy = sum((p[1] - cy) ** 2 for p in pos.values())
    sxy = sum((p[0] - cx) * (p[1] - cy) for p in pos.values())
    angle = 0.5 * math.atan2(2 * sxy, sxx - syy)
    c, s_ = math.cos(-angle), math.sin(-angle)
    rot = {
        m: ((x - cx) * c - (y - cy) * s_, (x - cx) * s_ + (y - cy) * c) for m, (x, y) in pos.items()
    }
    xs = [p[0] for p in rot.values()]
    ys = [p[1] for p in rot.values()]
    span = max(max(xs) - min(xs), max(ys) - min(ys)) or 1.0
    return {m: ((x - min(xs)) / span, (y - min(ys)) / span) for m, (x, y) in rot.items()}


def _crossings(pos: dict[str, tuple[float, float]], pairs: list[tuple[str, str]]) -> int:
    def ccw(a: tuple[float, float], b: tuple[float, float], c: tuple[float, float]) -> float:
        return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])

    count = 0
    for i, (a, b) in enumerate(pairs):
        for c, d in pairs[i + 1 :]:
            if len({a, b, c, d}) < 4:
                continue
            p, q, r, s = pos[a], pos[b], pos[c], pos[d]
            if ccw(p, q, r) * ccw(p, q, s) < 0 and ccw(r, s, p) * ccw(r, s, q) < 0:
                count += 1
    return count


def _best_layout(
    ids: list[str], edges: list[tuple[str, str, float]]
) -> dict[str, tuple[float, float]]:
    """Small maps: a few deterministic starts, keep the one with the fewest crossings."""
    tries = 6 if len(ids) <= 30 else 2 if len(ids) <= 60 else 1
    pairs = sorted({(min(a, b), max(a, b)) for a, b, _ in edges if a != b})
    best: tuple[int, int, dict[str, tuple[float, float]]] | None = None
    for seed in range(tries):
        pos = layout(ids, edges, seed=seed)
        score = _crossings(pos, pairs) if tries > 1 else 0
        if best is None or score < best[0]:
            best = (score, seed, pos)
    assert best is not None
    return best[2]


def _label_box(node: MapNode) -> tuple[float, float, float, float]:
    """(left, top, right, bottom) of a member's circle and its label, around (x, y)."""
    half, above, below = _extent(node)
    return node.x - half, node.y - above, node.x + half, node.y + below


def _extent(node: MapNode) -> tuple[float, float, float]:
    """(half width, height above, height below) of a member's circle and label."""
    half = max([node.r] + [text_width(ln) / 2 for ln in node.lines]) + 4
    return half, node.r + 2, node.r + 6 + LINE_HEIGHT * len(node.lines)


def _separate(nodes: list[MapNode], rounds: int = 80) -> None:
    """Push apart members whose circle+label boxes overlap (along the shorter overlap)."""
    ordered = sorted(nodes, key=lambda n: n.id)
    ext = [_extent(n) for n in ordered]
    for _ in range(rounds):
        moved = False
        for i, a in enumerate(ordered):
            ah, aa, ab_ = ext[i]
            for j in range(i + 1, len(ordered)):
                b = ordered[j]
                bh, ba, bb_ = ext[j]
                ox = min(a.x + ah, b.x + bh) - max(a.x - ah, b.x - bh)
                if ox <= 0:
                    continue
                oy = min(a.y + ab_, b.y + bb_) - max(a.y - aa, b.y - ba)
                if oy <= 0:
                    continue
                moved = True
                if ox < oy:
                    shift = ox / 2 + 1
                    sign = -1 if a.x < b.x or (a.x == b.x and a.id < b.id) else 1
                    a.x += sign * shift
                    b.x -= sign * shift
                else:
                    shift = oy / 2 + 1
                    sign = -1 if a.y < b.y or (a.y == b.y and a.id < b.id) else 1
                    a.y += sign * shift
                    b.y -= sign * shift
        if not moved:
            return


# --------------------------------------------------------------------------- the map
def _short_name(name: str) -> str:
    """A label for the map: the abbreviation in brackets if there is one (รพ.สต.ดอนแก้ว)."""
    if "(" in name and name.rstrip().endswith(")"):
        inner = name[name.rfind("(") + 1 : name.rstrip().rfind(")")].strip()
        if "." in inner and 6 <= len(inner) <= 24:
            return inner
    return name


def build(
    graph: dict[str, Any],
    names: dict[str, str],
    *,
    own: str | None = None,
    max_nodes: int = MAX_NODES,
) -> NetMap:
    """Lay out the network graph (``directory.graph``); ``names``: member id -> name to show."""
    all_nodes = {n["id"]: n for n in graph.get("nodes", [])}
    edges = [
        MapEdge(e["source"], e["target"], e["kind"], int(e.get("weight", 1)))
        for e in graph.get("edges", [])
        if e["source"] in all_nodes and e["target"] in all_nodes and e["source"] != e["target"]
    ]
    # who holds the network together: undirected ties among members who have not left
    g = nx.Graph()
    active = [m for m, n in all_nodes.items() if n.get("status") != "left"]
    g.add_nodes_from(active)
    g.add_edges_from((e.a, e.b) for e in edges if e.a in g and e.b in g)
    cuts = set(nx.articulation_points(g))
    splits: dict[str, int] = {}
    for c in cuts:
        part = nx.node_connected_component(g, c) - {c}
        splits[c] = nx.number_connected_components(g.subgraph(part))
    components = nx.number_connected_components(g) if len(g) else 0

    degree: dict[str, float] = dict.fromkeys(all_nodes, 0.0)
    for e in edges:
        s = _strength(e.kind, e.weight)
        degree[e.a] += s
        degree[e.b] += s
    chosen = sorted(all_nodes, key=lambda m: (-degree[m], m))[:max_nodes]
    keep = set(chosen)
    edges = [e for e in edges if e.a in keep and e.b in keep]
    ties_count: dict[str, int] = dict.fromkeys(keep, 0)
    for a, b in {(min(e.a, e.b), max(e.a, e.b)) for e in edges}:
        ties_count[a] += 1
        ties_count[b] += 1

    nodes = []
    for m in sorted(keep):
        info = all_nodes[m]
        name = names.get(m) or info.get("name") or m[:12]
        nodes.append(
            MapNode(
                id=m, name=name, lines=wrap_label(_short_name(name)),
                status=str(info.get("status", "admitted")), forked=bool(info.get("forked")),
                own=m == own, cut=m in cuts, splits=splits.get(m, 0), degree=ties_count[m],
                r=min(8.0 + 3.0 * math.sqrt(ties_count[m]), 22.0) + (2.0 if m in cuts else 0.0),
            )
        )  # fmt: skip
    pos = _best_layout(
        [x.id for x in nodes], [(e.a, e.b, _strength(e.kind, e.weight)) for e in edges]
    )
    # scale so that a typical tie is about as long as a label is wide; bigger maps scroll
    lengths = sorted(
        math.dist(pos[e.a], pos[e.b]) for e in edges if math.dist(pos[e.a], pos[e.b]) > 0
    )
    typical = lengths[len(lengths) // 2] if lengths else 0.5
    scale = min(max(TIE_PIXELS / typical, 560.0), 6000.0)
    for node in nodes:
        x, y = pos[node.id]
        node.x, node.y = x * scale, y * scale
    _separate(nodes)
    # fit the viewBox around everything with a margin
    boxes = [_label_box(x) for x in nodes] or [(0.0, 0.0, 1.0, 1.0)]
    left = min(b[0] for b in boxes) - 16
    top = min(b[1] for b in boxes) - 16
    for node in nodes:
        node.x = round(node.x - left, 1)
        node.y = round(node.y - top, 1)
    width = round(max(b[2] for b in boxes) - left + 16, 1)
    height = round(max(b[3] for b in boxes) - top + 16, 1)

    ties: dict[str, dict[str, Any]] = {
        m: {"works_with": [], "endorses": [], "endorsed_by": []} for m in all_nodes
    }
    for e in graph.get("edges", []):
        a, b = e["source"], e["target"]
        if a not in all_nodes or b not in all_nodes or a == b:
            continue
        if e["kind"] == "endorsement":
            ties[a]["endorses"].append(b)
            ties[b]["endorsed_by"].append(a)
        else:
            ties[a]["works_with"].append((b, int(e.get("weight", 1))))
            ties[b]["works_with"].append((a, int(e.get("weight", 1))))
    for t in ties.values():
        t["works_with"].sort(key=lambda p: (-p[1], p[0]))
    return NetMap(
        nodes=nodes, edges=edges, width=width, height=height, total=len(all_nodes),
        components=components, cut_points=sorted(cuts, key=lambda c: (-splits[c], c)), ties=ties,
    )  # fmt: skip


# --------------------------------------------------------------------------- SVG
def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _f(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def _endorse_path(a: MapNode, b: MapNode) -> str:
    """A gentle arc from a to b (bending to its left, so a pair endorsing each other
    draws two arcs), ending at b's edge so the arrowhead shows."""
    mx, my = (a.x + b.x) / 2, (a.y + b.y) / 2
    dx, dy = b.x - a.x, b.y - a.y
    d = math.hypot(dx, dy) or 1.0
    bend = min(0.18 * d, 40.0)
    cx, cy = mx - dy / d * bend, my + dx / d * bend

    def toward(px: float, py: float, qx: float, qy: float, by: float) -> tuple[float, float]:
        ux, uy = qx - px, qy - py
        u = math.hypot(ux, uy) or 1.0
        return px + ux / u * by, py + uy / u * by

    sx, sy = toward(a.x, a.y, cx, cy, a.r + 1)
    ex, ey = toward(b.x, b.y, cx, cy, b.r + 3)
    return f"M{_f(sx)},{_f(sy)} Q{_f(cx)},{_f(cy)} {_f(ex)},{_f(ey)}"


def svg(
    m: NetMap,
    *,
    href: Callable[[str], str],
    title: str,
    desc: str,
    tooltip: Callable[[MapNode], str] | None = None,
    edge_title: Callable[[MapEdge, MapNode, MapNode], str] | None = None,
    legend: list[tuple[str, str]] | None = None,
    lang: str = "th",
) -> str:
    """The map as an SVG document (also valid inline in HTML). Styling is in presentation
    attributes (no ``style``), so the page's Content-Security-Policy allows it and the file
    looks the same on its own; classes let the page add focus styles.

    ``legend``: (kind, text) rows drawn under the map (for the standalone file);
    kinds are ``member``, ``cut``, ``pending``, ``self``, ``activity``, ``endorse``.
    """
    by_id = m.by_id
    height = m.height + (28.0 * len(legend) + 16 if legend else 0.0)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_f(m.width)} {_f(height)}" '
        f'width="{_f(m.width)}" height="{_f(height)}" class="netmap" role="group" '
        f'aria-labelledby="netmap-title netmap-desc" lang="{_esc(lang)}" '
        f'font-family="{_esc(FONT_FAMILY)}" font-size="{_f(FONT_SIZE)}">',
        f'<title id="netmap-title">{_esc(title)}</title>',
        f'<desc id="netmap-desc">{_esc(desc)}</desc>',
        "<defs>"
        f'<marker id="netmap-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        f'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        f'fill="{ENDORSE}"/></marker></defs>',
        f'<rect x="0" y="0" width="{_f(m.width)}" height="{_f(height)}" fill="#ffffff"/>',
        '<g class="edges" aria-hidden="true">',
    ]
    for e in sorted(m.edges, key=lambda e: (e.kind != "shared-activities", e.a, e.b)):
        a, b = by_id[e.a], by_id[e.b]
        tip = f"<title>{_esc(edge_title(e, a, b))}</title>" if edge_title else ""
        if e.kind == "shared-activities":
            w = 1.5 + 1.5 * math.log2(max(e.weight, 1))
            out.append(
                f'<line class="tie activity" x1="{_f(a.x)}" y1="{_f(a.y)}" x2="{_f(b.x)}" '
                f'y2="{_f(b.y)}" stroke="{ACTIVITY}" stroke-opacity="0.6" '
                f'stroke-width="{_f(w)}" stroke-linecap="round">{tip}</line>'
            )
        else:
            out.append(
                f'<path class="tie endorse" d="{_endorse_path(a, b)}" fill="none" '
                f'stroke="{ENDORSE}" stroke-width="1.6" stroke-dasharray="5 4" '
                f'marker-end="url(#netmap-arrow)">{tip}</path>'
            )
    out.append("</g>")
    out.append('<g class="members">')
    # cut points last, so they sit on top
    for node in sorted(m.nodes, key=lambda x: (x.cut, x.id)):
        out.append(_node_svg(node, href(node.id), tooltip(node) if tooltip else node.name))
    out.append("</g>")
    if legend:
        out.append(_legend_svg(legend, m.height))
    out.append("</svg>")
    return "".join(out)


def _node_svg(node: MapNode, link: str, tip: str) -> str:
    fill, stroke, dash = MEMBER_FILL, MEMBER_STROKE, ""
    if node.own:
        fill = OWN_FILL
    if node.status == "pending":
        fill, dash = "#ffffff", ' stroke-dasharray="4 3"'
    elif node.status == "left":
        fill, stroke = LEFT_FILL, LEFT_STROKE
    if node.forked:
        stroke = FORK
    classes = " ".join(
        c
        for c, on in (
            ("member", True), ("cut", node.cut), ("own", node.own),
            (node.status, True), ("forked", node.forked),
        )
        if on
    )  # fmt: skip
    parts = [
        f'<a class="{classes}" href="{_esc(link)}" aria-label="{_esc(tip)}">',
        f"<title>{_esc(tip)}</title>",
    ]
    if node.cut:
        parts.append(
            f'<circle cx="{_f(node.x)}" cy="{_f(node.y)}" r="{_f(node.r + 4)}" fill="none" '
            f'stroke="{CUT}" stroke-width="4"/>'
        )
    parts.append(
        f'<circle class="dot" cx="{_f(node.x)}" cy="{_f(node.y)}" r="{_f(node.r)}" '
        f'fill="{fill}" stroke="{stroke}" stroke-width="2.5"{dash}/>'
    )
    if node.forked:
        parts.append(
            f'<text x="{_f(node.x)}" y="{_f(node.y + 5)}" text-anchor="middle" font-weight="700" '
            f'font-size="14" fill="{FORK}">!</text>'
        )
    y = node.y + node.r + 6 + FONT_SIZE
    weight = ' font-weight="700"' if node.cut or node.own else ""
    colour = CUT if node.cut else INK
    parts.append(
        f'<text class="label" x="{_f(node.x)}" text-anchor="middle" fill="{colour}"{weight} '
        'stroke="#ffffff" stroke-width="5" stroke-linejoin="round" paint-order="stroke">'
    )
    for i, line in enumerate(node.lines):
        parts.append(f'<tspan x="{_f(node.x)}" y="{_f(y + i * LINE_HEIGHT)}">{_esc(line)}</tspan>')
    parts.append("</text></a>")
    return "".join(parts)


def _legend_svg(rows: list[tuple[str, str]], top: float) -> str:
    out = ['<g class="legend">']
    y = top + 20
    for kind, text in rows:
        out.append(legend_symbol(kind, 20, y, inline=False))
        out.append(f'<text x="48" y="{_f(y + 4)}" fill="{INK}">{_esc(text)}</text>')
        y += 28
    out.append("</g>")
    return "".join(out)


def legend_symbol(kind: str, x: float = 14, y: float = 12, *, inline: bool = True) -> str:
    """One legend symbol; ``inline``: as a small standalone ``<svg>`` for the HTML legend."""
    if kind == "activity":
        body = (
            f'<line x1="{_f(x - 12)}" y1="{_f(y)}" x2="{_f(x + 12)}" y2="{_f(y)}" '
            f'stroke="{ACTIVITY}" stroke-width="3" stroke-linecap="round"/>'
        )
    elif kind == "endorse":
        body = (
            f'<path d="M{_f(x - 12)},{_f(y)} L{_f(x + 10)},{_f(y)}" stroke="{ENDORSE}" '
            f'stroke-width="1.6" stroke-dasharray="5 4" fill="none"/>'
            f'<path d="M{_f(x + 6)},{_f(y - 4)} L{_f(x + 13)},{_f(y)} L{_f(x + 6)},{_f(y + 4)} z" '
            f'fill="{ENDORSE}"/>'
        )
    elif kind == "cut":
        body = (
            f'<circle cx="{_f(x)}" cy="{_f(y)}" r="10" fill="none" stroke="{CUT}" '
            f'stroke-width="3"/><circle cx="{_f(x)}" cy="{_f(y)}" r="6" fill="{MEMBER_FILL}" '
            f'stroke="{MEMBER_STROKE}" stroke-width="2"/>'
        )
    elif kind == "pending":
        body = (
            f'<circle cx="{_f(x)}" cy="{_f(y)}" r="8" fill="#ffffff" stroke="{MEMBER_STROKE}" '
            'stroke-width="2" stroke-dasharray="4 3"/>'
        )
    elif kind == "self":
        body = (
            f'<circle cx="{_f(x)}" cy="{_f(y)}" r="8" fill="{OWN_FILL}" stroke="{MEMBER_STROKE}" '
            'stroke-width="2"/>'
        )
    elif kind == "forked":
        body = (
            f'<circle cx="{_f(x)}" cy="{_f(y)}" r="8" fill="{MEMBER_FILL}" stroke="{FORK}" '
            f'stroke-width="2.5"/><text x="{_f(x)}" y="{_f(y + 4)}" text-anchor="middle" '
            f'font-size="11" font-weight="700" fill="{FORK}">!</text>'
        )
    else:
        body = (
            f'<circle cx="{_f(x)}" cy="{_f(y)}" r="8" fill="{MEMBER_FILL}" '
            f'stroke="{MEMBER_STROKE}" stroke-width="2"/>'
        )
    if not inline:
        return body
    return (
        '<svg class="legend-symbol" width="28" height="24" viewBox="0 0 28 24" '
        f'aria-hidden="true" focusable="false">{body}</svg>'
    )


def matched(graph: dict[str, Any]) -> int:
    """How many distinct pairs of members are tied (either way), for summaries."""
    return len(
        {tuple(sorted((e["source"], e["target"]))) for e in graph.get("edges", [])
         if e["source"] != e["target"]}
    )  # fmt: skip
