"""HTML rendering of the appendix model: one self-contained page, charts as inline SVG, autoescaped."""

from __future__ import annotations

import base64

from markupsafe import Markup, escape

from decision.appendix import charts
from decision.appendix.model import Appendix
from decision.appendix.templating import environment


def lines(text: str) -> Markup:
    """Escaped text with its line breaks kept."""
    return Markup("<br>").join(escape(part) for part in str(text).split("\n"))


def render_html(appendix: Appendix) -> str:
    """The HTML document; every value from the model is escaped by the template."""
    svgs = {f.key: Markup(charts.to_svg(f.spec, prefix=f"fig-{f.key}")) for f in appendix.figures}
    logo = (f"data:{appendix.logo.mime};base64,{base64.b64encode(appendix.logo.data).decode('ascii')}"
            if appendix.logo else None)
    return environment().get_template("appendix.html.j2").render(a=appendix, svgs=svgs, logo=logo, lines=lines)
