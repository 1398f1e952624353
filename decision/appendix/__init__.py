"""The consultants' appendix: one profile's evaluation as a Word, HTML or Markdown document.

    build(ev, i, "docx", firm="Fabrikam Consulting", logo=Path("logo.png")) -> bytes

All three formats render one content model (decision.appendix.model), so they cannot disagree.
Markdown references its charts (and the logo) as PNG files beside it: `build_files` returns them all.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import TYPE_CHECKING

from decision.errors import InputError, Issue, writing
from decision.limits import LIMITS, size_text
from decision.slugs import file_name

if TYPE_CHECKING:  # the renderers, charts and engine load on first use, so the CLI starts fast
    from decision.appendix.model import Appendix, Logo
    from decision.current_state import CurrentState
    from decision.engine import Evaluation

FORMATS = ("docx", "html", "md")
MAX_LOGO_BYTES = LIMITS["logo_max_bytes"]  # data/parameters.yaml limits
_LOGO_TYPES = ((b"\x89PNG\r\n\x1a\n", "image/png", "png"), (b"\xff\xd8\xff", "image/jpeg", "jpg"),
               (b"GIF87a", "image/gif", "gif"), (b"GIF89a", "image/gif", "gif"))


def safe_name(text: str, fallback: str = "appendix") -> str:
    """A file-name part from user text: ASCII letters, digits, '.', '_' and '-' only, at most 60 characters."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-._")[:60].strip("-._")
    return name or fallback


def read_logo(source: bytes | str | Path | None) -> Logo | None:
    """A logo from a file or bytes; PNG, JPEG or GIF (checked by content, not by name)."""
    from decision.appendix.model import Logo

    if source is None:
        return None
    where = "logo" if isinstance(source, bytes) else str(source)
    if isinstance(source, bytes):
        data = source
    else:
        try:
            if Path(source).stat().st_size > MAX_LOGO_BYTES:
                raise InputError(Issue(where, 0, "logo", f"larger than {size_text(MAX_LOGO_BYTES)}"))
            data = Path(source).read_bytes()
        except OSError as exc:
            raise InputError(Issue(where, 0, "logo", f"cannot read file: {exc.strerror}")) from None
    if len(data) > MAX_LOGO_BYTES:
        raise InputError(Issue(where, 0, "logo", f"larger than {size_text(MAX_LOGO_BYTES)}"))
    for magic, mime, ext in _LOGO_TYPES:
        if data.startswith(magic):
            return Logo(data, mime, ext)
    raise InputError(Issue(where, 0, "logo", "not a PNG, JPEG or GIF image"))


def content(ev: Evaluation, i: int = 0, *, firm: str | None = None, logo: bytes | str | Path | None = None,
            generated: dt.date | None = None, current: CurrentState | None = None) -> Appendix:
    """The content model of profile `i`'s appendix (what every format renders); `current`: the certificates a
    server export shows today (`decision.current_state.assess`), or None."""
    from decision.appendix.model import build_model

    return build_model(ev, i, firm=firm, logo=read_logo(logo), generated=generated, current=current)


def build_files(ev: Evaluation, i: int, fmt: str, *, firm: str | None = None, logo: bytes | str | Path | None = None,
                generated: dt.date | None = None, stem: str = "appendix", current: CurrentState | None = None
                ) -> dict[str, bytes]:
    """{file name: content}: the document first, then (Markdown only) the chart PNGs and the logo it links to."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown appendix format {fmt!r}; use one of {', '.join(FORMATS)}")
    stem = safe_name(stem)
    appendix = content(ev, i, firm=firm, logo=logo, generated=generated, current=current)
    if fmt == "docx":
        from decision.appendix.render_docx import render_docx

        return {f"{stem}.docx": render_docx(appendix)}
    if fmt == "html":
        from decision.appendix.render_html import render_html

        return {f"{stem}.html": render_html(appendix).encode("utf-8")}
    from decision.appendix import charts
    from decision.appendix.render_md import figure_file, render_markdown

    logo_file = f"{stem}-logo.{appendix.logo.ext}" if appendix.logo else None
    files = {f"{stem}.md": render_markdown(appendix, stem, logo_file).encode("utf-8")}
    files |= {figure_file(stem, f): charts.to_png(f.spec) for f in appendix.figures}
    if appendix.logo and logo_file:
        files[logo_file] = appendix.logo.data
    return files


def build(ev: Evaluation, i: int = 0, fmt: str = "docx", firm: str | None = None,
          logo: bytes | str | Path | None = None, *, generated: dt.date | None = None,
          current: CurrentState | None = None) -> bytes:
    """The appendix of profile `i` as one document (docx, html or md; md links to `build_files`' PNGs)."""
    if fmt == "md":
        from decision.appendix.render_md import render_markdown

        appendix = content(ev, i, firm=firm, logo=logo, generated=generated, current=current)
        logo_file = f"appendix-logo.{appendix.logo.ext}" if appendix.logo else None
        return render_markdown(appendix, "appendix", logo_file).encode("utf-8")
    return next(iter(build_files(ev, i, fmt, firm=firm, logo=logo, generated=generated, current=current).values()))


def download_name(ev: Evaluation, i: int, fmt: str) -> str:
    """The app's file name for the appendix, in the style of its other downloads (`slugs.file_name`):
    contoso-inc-certificate-strategy.docx."""
    return file_name(str(ev.profiles.iloc[i]["org"]), "certificate-strategy", fmt)


def write(ev: Evaluation, i: int, out: Path, *, firm: str | None = None, logo: bytes | str | Path | None = None,
          generated: dt.date | None = None, current: CurrentState | None = None) -> list[Path]:
    """Write the appendix to `out` (format from its suffix) and, for Markdown, its PNGs beside it; atomically."""
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise InputError(Issue(str(out), 0, "output", f"the output must end in .{', .'.join(FORMATS)}"))
    from decision.safe_output import atomic_path

    files = build_files(ev, i, fmt, firm=firm, logo=logo, generated=generated, stem=out.stem, current=current)
    main, *extra = files
    targets = {**{name: out.parent / name for name in extra}, main: out}  # the figures first: no page without them
    for name, path in targets.items():
        with writing(path), atomic_path(path) as tmp:
            tmp.write_bytes(files[name])
    return list(targets.values())


__all__ = ["FORMATS", "build", "build_files", "content", "download_name", "read_logo", "safe_name", "write"]
