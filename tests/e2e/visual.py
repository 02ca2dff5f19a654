"""What the eye gets from the rendered page: WCAG contrast of chart text and chart marks, read
from Plotly's SVG, and the contrast of a control's focus change, read from screenshots.

    problems = chart_contrast_problems(page)   # [] when every chart text is >= 4.5:1 and every
                                               # mark that carries meaning >= 3:1
    ratio = focus_change_contrast(before_png, after_png)

A mark carries meaning unless it is a filled area (a band), a heatmap or contour image, or a
shape that only fills (a shaded range): lines, markers, bars (by their fill or their outline)
and reference lines all count. Colours are composited over what is behind them (the plot's
own background, then the page's), with every opacity on the way.
"""

from __future__ import annotations

import io

TEXT_RATIO = 4.5
MARK_RATIO = 3.0
FOCUS_RATIO = 3.0
SWATCHES = set("■●○▲◆ ")

# Every chart on the page (st.plotly_chart's and the live charts'): its texts and its marks,
# each with its colour composited over the chart's background, and that background.
CHART_COLOURS_JS = """() => {
    const ctx2d = document.createElement('canvas').getContext('2d');
    const parse = (c) => {
        if (!c || c === 'none' || c === 'transparent') return null;
        ctx2d.fillStyle = '#010203';
        ctx2d.fillStyle = c;  // any CSS colour, as '#rrggbb' or 'rgba(r, g, b, a)'
        c = ctx2d.fillStyle;
        const m = c.match(/rgba?\\(([^)]+)\\)/);
        if (m) {
            const p = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
            return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
        }
        const h = c.replace('#', '');
        const full = h.length === 3 ? h.split('').map((x) => x + x).join('') : h;
        return [0, 2, 4].map((i) => parseInt(full.slice(i, i + 2), 16)).concat([1]);
    };
    const over = (fg, alpha, bg) => fg.slice(0, 3).map((v, i) => v * alpha + bg[i] * (1 - alpha));
    const pageBg = (el) => {
        for (let e = el; e; e = e.parentElement) {
            const c = parse(getComputedStyle(e).backgroundColor);
            if (c && c[3] > 0) return c.slice(0, 3);
        }
        return [255, 255, 255];
    };
    // opacity of el and its ancestors up to the svg, times its own fill- or stroke-opacity
    const alphaOf = (el, which, root) => {
        const s = getComputedStyle(el);
        let a = Number(s[which + 'Opacity'] ?? 1);
        for (let e = el; e && e !== root; e = e.parentElement) {
            a *= Number(getComputedStyle(e).opacity ?? 1);
        }
        return a;
    };
    const visible = (el) => {
        const r = el.getBoundingClientRect();
        return r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== 'hidden'
            && getComputedStyle(el).display !== 'none';
    };
    const out = [];
    document.querySelectorAll('.js-plotly-plot').forEach((gd, g) => {
        if (!gd._fullLayout) return;
        const behind = pageBg(gd.parentElement);
        const paper = parse(gd._fullLayout.paper_bgcolor) || [255, 255, 255, 0];
        const bg = over(paper, paper[3], behind);
        const plot = parse(gd._fullLayout.plot_bgcolor) || [255, 255, 255, 0];
        const plotBg = over(plot, plot[3], bg);
        const texts = [];
        gd.querySelectorAll('svg text').forEach((t) => {
            // a heatmap's cell texts stand on their cells, not on the chart's background
            if (!visible(t) || t.closest('.legendtoggle, .heatmaplayer, .hm')) return;
            // the element that paints each run of characters: a tspan that sets its own fill
            const parts = [...t.querySelectorAll('tspan')].filter((s) => s.style.fill);
            const painters = parts.length ? parts : [t];
            for (const el of painters) {
                const text = el.textContent.trim();
                if (!text) continue;
                const fill = parse(getComputedStyle(el).fill);
                if (!fill) continue;
                const a = alphaOf(el, 'fill', gd) * fill[3];
                texts.push({text: text.slice(0, 40), fill: over(fill, a, bg),
                            bg: bg, alpha: a});
            }
        });
        const marks = [];
        const add = (el, kind, name) => {
            if (!visible(el)) return;
            const s = getComputedStyle(el);
            const width = parseFloat(s.strokeWidth) || 0;
            const stroke = parse(s.stroke);
            const fill = parse(s.fill);
            const colours = [];
            if (stroke && width >= 1) {
                colours.push(over(stroke, alphaOf(el, 'stroke', gd) * stroke[3], plotBg));
            }
            if (fill && kind !== 'line') {
                colours.push(over(fill, alphaOf(el, 'fill', gd) * fill[3], plotBg));
            }
            if (colours.length) marks.push({kind, name, colours, bg: plotBg});
        };
        gd.querySelectorAll('.scatterlayer .trace').forEach((tr) => {
            const name = (tr.__data__ && tr.__data__[0] && tr.__data__[0].trace
                && tr.__data__[0].trace.name) || '';
            tr.querySelectorAll('path.js-line').forEach((p) => add(p, 'line', name));
            tr.querySelectorAll('path.point').forEach((p) => add(p, 'marker', name));
        });
        gd.querySelectorAll('.barlayer .trace').forEach((tr) => {
            const name = (tr.__data__ && tr.__data__[0] && tr.__data__[0].trace
                && tr.__data__[0].trace.name) || '';
            const bars = [...tr.querySelectorAll('.point path')].filter(visible);
            if (bars.length) add(bars[Math.floor(bars.length / 2)], 'bar', name);
        });
        gd.querySelectorAll('.shapelayer path').forEach((p) => {
            const s = getComputedStyle(p);
            if ((parseFloat(s.strokeWidth) || 0) >= 1 && parse(s.stroke)) add(p, 'line', 'shape');
        });
        out.push({chart: g, title: (gd._fullLayout.title && gd._fullLayout.title.text) || '',
                  texts, marks});
    });
    return out;
}"""


def luminance(rgb):
    """WCAG relative luminance of an sRGB colour given as 0-255 channels."""

    def channel(v):
        v = v / 255
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a, b):
    """WCAG contrast ratio of two sRGB colours (0-255 channels, or '#rrggbb')."""
    a, b = (hex_rgb(c) if isinstance(c, str) else c for c in (a, b))
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def hex_rgb(colour):
    """'#rrggbb' (or '#rgb') as (r, g, b) 0-255."""
    h = colour.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    return tuple(int(h[i : i + 2], 16) for i in (0, 2, 4))


def chart_colours(page):
    """Every chart's texts and marks with their composited colours (CHART_COLOURS_JS)."""
    return page.evaluate(CHART_COLOURS_JS)


def chart_contrast_problems(page, charts=None):
    """(texts under 4.5:1, marks under 3:1), each a list of readable lines."""
    charts = chart_colours(page) if charts is None else charts
    texts, marks = [], []
    for chart in charts:
        for t in chart["texts"]:
            ratio = contrast(t["fill"], t["bg"])
            # a swatch (theme.swatch: "■" before a network's name) is a mark, not text
            least = MARK_RATIO if set(t["text"]) <= SWATCHES else TEXT_RATIO
            if ratio < least - 0.005:
                texts.append(f"chart {chart['chart']} text {t['text']!r}: {ratio:.2f}:1")
        for m in chart["marks"]:
            ratio = max(contrast(c, m["bg"]) for c in m["colours"])
            if ratio < MARK_RATIO - 0.005:
                marks.append(f"chart {chart['chart']} {m['kind']} {m['name']!r}: {ratio:.2f}:1")
    return texts, marks


def focus_change_contrast(before_png, after_png, least_pixels=20):
    """How strongly a control's look changes when it takes focus: the WCAG contrast between
    the unfocused and the focused colour of the changed pixels, the `least_pixels`-th highest
    (so that a few anti-aliased pixels do not count as an indicator). 1.0: nothing changed."""
    import numpy as np
    from PIL import Image

    a = np.asarray(Image.open(io.BytesIO(before_png)).convert("RGB"), dtype=np.float64)
    b = np.asarray(Image.open(io.BytesIO(after_png)).convert("RGB"), dtype=np.float64)
    h, w = min(a.shape[0], b.shape[0]), min(a.shape[1], b.shape[1])
    a, b = a[:h, :w].reshape(-1, 3), b[:h, :w].reshape(-1, 3)
    changed = np.any(np.abs(a - b) > 2, axis=1)
    if changed.sum() < least_pixels:
        return 1.0

    def lum(x):
        x = x / 255
        x = np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)
        return x @ np.array([0.2126, 0.7152, 0.0722])

    la, lb = lum(a[changed]), lum(b[changed])
    ratios = (np.maximum(la, lb) + 0.05) / (np.minimum(la, lb) + 0.05)
    return float(np.sort(ratios)[-least_pixels])
