"""The chart theme meets WCAG 2.1 AA by its numbers: chart text 4.5:1 and series colours 3:1
against both templates' backgrounds (light and dark), contrast computed here from WCAG's
formula; every figure module takes its colours from bn_viz.theme."""

import re
from pathlib import Path

import plotly.graph_objects as go
import plotly.io as pio
import pytest

from bn_viz import theme

REPO = Path(__file__).resolve().parents[1]
BACKGROUNDS = {"light": theme.LIGHT["background"], "dark": theme.DARK["background"]}


def luminance(hex_colour):
    """WCAG 2.1 relative luminance of '#rrggbb'."""

    def channel(c):
        c /= 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(int(hex_colour[i : i + 2], 16)) for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a, b):
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_contrast_formula_matches_wcag_examples():
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    assert contrast("#808495", "#ffffff") == pytest.approx(3.72, abs=0.01)  # Streamlit's grey


@pytest.mark.parametrize("colour", sorted(set(theme.SERIES_COLORS)))
@pytest.mark.parametrize("background", sorted(BACKGROUNDS))
def test_every_series_colour_has_3_to_1_on_both_backgrounds(colour, background):
    assert contrast(colour, BACKGROUNDS[background]) >= 3.0


@pytest.mark.parametrize("colours", [theme.LIGHT, theme.DARK], ids=["light", "dark"])
def test_chart_text_has_4_5_to_1(colours):
    for name in ("text", "muted"):
        assert contrast(colours[name], colours["background"]) >= 4.5, name
    assert contrast(theme.DIAGRAM_TEXT, "#eeeeee") >= 4.5  # on the diagram's greyest box
    for fill in theme.DIAGRAM_FILLS.values():
        assert contrast(theme.DIAGRAM_TEXT, fill) >= 4.5
    assert contrast(theme.DIAGRAM_LINE, theme.LIGHT["background"]) >= 3.0


def test_the_palette_is_okabe_ito_and_networks_keep_their_colours():
    assert (theme.BN_COLOR, theme.PLAIN_COLOR, theme.LN_COLOR) == ("#0072B2", "#D55E00", "#009E73")
    assert not {theme.BN_COLOR, theme.PLAIN_COLOR, theme.LN_COLOR} & set(theme.CLASS_COLORS)
    assert len(set(theme.CLASS_COLORS)) == len(theme.CLASS_COLORS) == len(theme.CLASS_SYMBOLS)
    # told apart by a second channel, not colour alone
    assert theme.ALIVE_SYMBOL != theme.DEAD_SYMBOL
    assert len(set(theme.NET_SYMBOLS.values())) == 3
    assert len(set(theme.LAYER_DASHES)) == len(theme.LAYER_DASHES)


@pytest.mark.parametrize(
    "name, colours", [(theme.TEMPLATE, theme.LIGHT), (theme.DARK_TEMPLATE, theme.DARK)]
)
def test_templates_are_registered_with_their_text_colours(name, colours):
    layout = pio.templates[name].layout
    assert layout.paper_bgcolor == layout.plot_bgcolor == colours["background"]
    assert layout.font.color == colours["text"]
    assert layout.xaxis.tickfont.color == layout.yaxis.tickfont.color == colours["muted"]
    assert layout.xaxis.title.font.color == colours["text"]
    assert layout.annotationdefaults.font.color == colours["text"]
    assert layout.transition.duration == 0  # no animated changes


def test_figures_use_the_template_and_for_dark_swaps_ink():
    from bn_viz.lab_layout import figure

    assert figure([], {}).layout.template.layout.font.color == theme.LIGHT["text"]
    fig = theme.finish(go.Figure(go.Scatter(x=[0], y=[0], marker={"color": theme.INK})))
    fig.add_annotation(text="note", font={"color": theme.MUTED_TEXT})
    assert fig.layout.template.layout.font.color == theme.LIGHT["text"]
    theme.for_dark(fig)
    assert fig.layout.template.layout.paper_bgcolor == theme.DARK["background"]
    assert fig.data[0].marker.color == theme.DARK["text"]
    assert fig.layout.annotations[0].font.color == theme.DARK["muted"]


def test_titles_are_wrapped_for_a_narrow_screen_and_unwrap_as_built():
    title = "Input to the activation of unit 1 of each layer, over the training steps"
    layout = theme.fit_titles(
        {
            "title": {"text": title},
            "margin": {"t": 70},
            "annotations": [
                {
                    "text": "Z_norm = (Z − μ) / √(σ² + ε)  (mean 0, variance 1)",
                    "xref": "paper",
                    "yref": "paper",
                    "showarrow": False,
                    "yanchor": "bottom",
                    "xanchor": "center",
                },
                {"text": "a note, not a subplot title, stays on one line", "showarrow": False},
            ],
        }
    )
    lines = layout["title"]["text"].split("<br>")
    assert len(lines) == 3 and all(len(line) <= theme.TITLE_CHARS + 1 for line in lines)
    assert layout["margin"]["t"] == 70 + 2 * theme.TITLE_LINE_PX  # and none for a title
    # the subplot title is not in the top row (no y): it does not grow the top margin
    assert theme.unwrap(layout["title"]["text"]) == title
    assert "<br>" in layout["annotations"][0]["text"]
    assert "<br>" not in layout["annotations"][1]["text"]
    swatched = theme.wrap(theme.net_title("batch") + ": 8 of 10 digits right, and more", 20)
    assert "<span style='color:" in swatched  # never broken inside a tag
    fig = theme.fit_figure(theme.finish(go.Figure(), title=title))
    assert fig.layout.title.text == layout["title"]["text"]
    top_row = theme.fit_titles(
        {
            "margin": {"t": 30},
            "annotations": [
                {
                    "text": "A = relu(Z̃): each dot one example, as drawn",
                    "x": 0.3,
                    "y": 1.0,
                    "xref": "paper",
                    "yref": "paper",
                    "showarrow": False,
                    "yanchor": "bottom",
                }
            ],
        }
    )
    assert top_row["margin"]["t"] == 30 + theme.TITLE_LINE_PX  # room for its second line


def test_a_title_names_a_network_with_a_swatch_not_coloured_words():
    title = theme.net_title("batch")
    assert title.startswith(f"<span style='color:{theme.BN_COLOR}'>■</span>")
    assert "<b>with batch norm</b>" in title


HEX = re.compile(r"""["'](#[0-9a-fA-F]{3,8})["']|color:\s*#[0-9a-fA-F]{3,8}""")


def test_no_figure_module_hard_codes_a_colour():
    """Colours come from bn_viz.theme, so that a palette change reaches every chart."""
    files = [p for p in (REPO / "bn_viz").glob("*.py") if p.name != "theme.py"]
    files += [*(REPO / "pages").glob("*.py"), *(REPO / "bn_app").glob("*.py")]
    files += list((REPO / "bn_live").glob("*.js"))
    # (stylesheets may set a box's text colour with its own background: they are not scanned)
    found = [
        f"{p.relative_to(REPO)}: {m.group(0)}"
        for p in files
        for m in HEX.finditer(p.read_text(encoding="utf-8"))
    ]
    assert not found
