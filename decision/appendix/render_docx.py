"""Word rendering of the appendix model with python-docx: styled headings, shaded tables, captions, PNG charts.

The bytes are deterministic for a given model: document properties carry the generation date and the
zip entries a fixed timestamp derived from it.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile

from docx import Document
from docx.document import Document as DocumentType
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.image.image import Image
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from docx.table import Table as DocxTable
from docx.text.paragraph import Paragraph as DocxParagraph

from decision.appendix import charts
from decision.appendix.model import Appendix, Block, Bullets, Code, Figure, Note, Paragraph, Section, Subheading, Table
from decision.engine import ENGINE_VERSION

ACCENT = "1F4E79"
INK = RGBColor(0x1D, 0x27, 0x33)
MUTED = RGBColor(0x5B, 0x67, 0x75)
BAND, MARK, GROUP, LINE, CODE_BG, NOTE_BG, WARN_BG, WARN = ("F3F6F9", "FFF4D6", "DFE7EF", "C9D3DE", "F5F7F9",
                                                            "EEF4FA", "FFF6E5", "C77700")
FONT, MONO = "Calibri", "Consolas"
MARGIN = Cm(2.0)
PAGE_W, PAGE_H = Cm(21.0), Cm(29.7)
KEEP_TOGETHER_ROWS = 15
# w:pPr children that must follow w:pBdr (OOXML schema order)
_AFTER_PBDR = ("w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap", "w:overflowPunct",
               "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi", "w:adjustRightInd", "w:snapToGrid",
               "w:spacing", "w:ind", "w:contextualSpacing", "w:mirrorIndents", "w:suppressOverlap", "w:jc",
               "w:textDirection", "w:textAlignment", "w:textboxTightWrap", "w:outlineLvl", "w:divId", "w:cnfStyle",
               "w:rPr", "w:sectPr", "w:pPrChange")
_AFTER_TBLBORDERS = ("w:shd", "w:tblLayout", "w:tblCellMar", "w:tblLook", "w:tblCaption", "w:tblDescription")


# ------------------------------------------------------------------------------------ xml helpers
def _el(tag: str, **attrs: str) -> OxmlElement:
    element = OxmlElement(tag)
    for key, value in attrs.items():
        element.set(qn(f"w:{key}"), value)
    return element


def _shade_cell(cell, fill: str) -> None:
    cell._tc.get_or_add_tcPr().append(_el("w:shd", val="clear", color="auto", fill=fill))


def _cell_left_border(cell, colour: str) -> None:
    borders = _el("w:tcBorders")
    borders.append(_el("w:left", val="single", sz="24", space="0", color=colour))
    cell._tc.get_or_add_tcPr().insert_element_before(borders, "w:shd", "w:noWrap", "w:tcMar", "w:vAlign")


def _table_borders(table: DocxTable, colour: str = LINE, outer: bool = True) -> None:
    borders = _el("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        visible = edge in ("top", "bottom", "insideH") and outer
        borders.append(_el(f"w:{edge}", val="single" if visible else "nil", sz="4", space="0", color=colour))
    table._tbl.tblPr.insert_element_before(borders, *_AFTER_TBLBORDERS)


def _set_widths(table: DocxTable, widths: list[int]) -> None:
    """Column widths in the grid (LibreOffice reads these) and in every cell (Word reads these)."""
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width
    for row in table.rows:
        column = 0
        for tc in row._tr.tc_lst:
            tc.width = sum(widths[column:column + tc.grid_span])
            column += tc.grid_span
    margins = _el("w:tblCellMar")
    for side, size in (("top", "35"), ("left", "85"), ("bottom", "35"), ("right", "85")):
        margins.append(_el(f"w:{side}", w=size, type="dxa"))
    table._tbl.tblPr.insert_element_before(margins, "w:tblLook", "w:tblCaption", "w:tblDescription")


def _bottom_rule(paragraph: DocxParagraph, colour: str = ACCENT, size: str = "18") -> None:
    border = _el("w:pBdr")
    border.append(_el("w:bottom", val="single", sz=size, space="6", color=colour))
    paragraph._p.get_or_add_pPr().insert_element_before(border, *_AFTER_PBDR)


def _field(paragraph: DocxParagraph, instruction: str, shown: str) -> None:
    """A simple field (PAGE, NUMPAGES, SEQ Table) with its current result shown."""
    field = _el("w:fldSimple", instr=instruction)
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = shown
    run.append(text)
    field.append(run)
    paragraph._p.append(field)


def _repeat_header(row) -> None:
    tr_pr = row._tr.get_or_add_trPr()
    tr_pr.append(_el("w:cantSplit"))
    tr_pr.append(_el("w:tblHeader"))


# ---------------------------------------------------------------------------------------- styles
def _drop_theme_fonts(style) -> None:
    """Theme font attributes override an explicit font name in Word: remove them."""
    fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attr), None)


def _styles(doc: DocumentType) -> None:
    styles = doc.styles
    normal = styles["Normal"]
    normal.font.name, normal.font.size, normal.font.color.rgb = FONT, Pt(10.5), INK
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), FONT)
    normal.paragraph_format.space_after = Pt(5)
    normal.paragraph_format.line_spacing = 1.1
    for name, size, before, after, colour in (("Heading 1", 15, 20, 8, RGBColor.from_string(ACCENT)),
                                              ("Heading 2", 11.5, 14, 4, INK)):
        style = styles[name]
        style.font.name, style.font.size, style.font.bold, style.font.color.rgb = FONT, Pt(size), True, colour
        _drop_theme_fonts(style)
        style.paragraph_format.space_before, style.paragraph_format.space_after = Pt(before), Pt(after)
        style.paragraph_format.keep_with_next = True
    title = styles["Title"]
    _drop_theme_fonts(title)
    for border in title.element.pPr.findall(qn("w:pBdr")):
        title.element.pPr.remove(border)
    title.font.name, title.font.size, title.font.color.rgb, title.font.bold = FONT, Pt(24), INK, True
    caption = styles["Caption"]
    caption.font.name, caption.font.size, caption.font.italic, caption.font.bold = FONT, Pt(9), True, False
    caption.font.color.rgb = MUTED
    caption.paragraph_format.space_before, caption.paragraph_format.space_after = Pt(6), Pt(3)


# --------------------------------------------------------------------------------------- renderer
class _Writer:
    def __init__(self, appendix: Appendix):
        self.a = appendix
        self.doc = Document()
        _styles(self.doc)
        section = self.doc.sections[0]
        section.page_width, section.page_height = PAGE_W, PAGE_H
        for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
            setattr(section, side, MARGIN)
        self._header_footer(section)

    @property
    def width(self) -> int:
        s = self.doc.sections[-1]
        return s.page_width - s.left_margin - s.right_margin

    # ---------------------------------------------------------------- page furniture
    def _header_footer(self, section) -> None:
        header = section.header.paragraphs[0]
        header.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        run = header.add_run(self.a.header)
        run.font.size, run.font.color.rgb = Pt(8), MUTED
        footer = section.footer.paragraphs[0]
        footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
        for text, instruction in ((f"{self.a.page_footer} · page ", "PAGE"), (" of ", "NUMPAGES")):
            run = footer.add_run(text)
            run.font.size, run.font.color.rgb = Pt(8), MUTED
            _field(footer, instruction, "1")

    def _title_block(self) -> None:
        a = self.a
        if a.logo or a.firm:
            brand = self.doc.add_paragraph()
            if a.logo:
                image = Image.from_blob(a.logo.data)
                w, h = image.px_width, image.px_height
                height = Cm(1.5)
                width = min(Cm(5), int(height * w / max(h, 1)))
                brand.add_run().add_picture(io.BytesIO(a.logo.data), width=width)
                brand.add_run("   ")
            if a.firm:
                run = brand.add_run(a.firm)
                run.bold, run.font.size = True, Pt(12)
        kicker = self.doc.add_paragraph()
        kicker.paragraph_format.space_before = Pt(18)
        run = kicker.add_run(a.kicker.upper())
        run.bold, run.font.size, run.font.color.rgb = True, Pt(9), RGBColor.from_string(ACCENT)
        title = self.doc.add_paragraph(a.title, style="Title")
        title.paragraph_format.space_after = Pt(4)
        sub = self.doc.add_paragraph()
        run = sub.add_run(f"{a.subtitle}\nGenerated {a.generated.isoformat()}")
        run.font.color.rgb, run.font.size = MUTED, Pt(10)
        _bottom_rule(sub)
        contents = self.doc.add_paragraph()
        contents.paragraph_format.space_before = Pt(10)
        run = contents.add_run("Contents")
        run.bold, run.font.size = True, Pt(10)
        for s in a.sections:
            line = self.doc.add_paragraph(f"{s.number}.  {s.title}")
            line.paragraph_format.left_indent, line.paragraph_format.space_after = Cm(0.4), Pt(0)

    # ---------------------------------------------------------------------- blocks
    def runs(self, paragraph: DocxParagraph, p: Paragraph, size: float | None = None) -> None:
        for r in p.runs:
            run = paragraph.add_run(r.text)
            run.bold = r.bold or None
            if r.code:
                run.font.name = MONO
                run.font.size = Pt(9)
            elif size:
                run.font.size = Pt(size)

    def caption(self, label: str, caption: str, keep_with_next: bool) -> None:
        kind, number = label.rsplit(" ", 1)
        p = self.doc.add_paragraph(style="Caption")
        p.paragraph_format.keep_with_next = keep_with_next
        p.add_run(f"{kind} ").bold = True
        _field(p, f" SEQ {kind} \\* ARABIC ", number)
        p.add_run(". ").bold = True
        p.add_run(caption)

    def table(self, t: Table) -> None:
        self.caption(t.label, t.caption, keep_with_next=True)
        table = self.doc.add_table(rows=1, cols=len(t.columns))
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        table.autofit = False
        _table_borders(table)
        total = sum(t.widths)
        widths = [int(self.width * w / total) for w in t.widths]
        size = 8 if t.small else 9
        header = table.rows[0]
        _repeat_header(header)
        for k, name in enumerate(t.columns):
            self._fill(header.cells[k], name, size, t.align[k], bold=True, colour=RGBColor(0xFF, 0xFF, 0xFF))
            _shade_cell(header.cells[k], ACCENT)
        for r, values in enumerate(t.rows):
            row = table.add_row()
            row._tr.get_or_add_trPr().append(_el("w:cantSplit"))
            cells = row.cells
            if r in t.group_rows:
                merged = cells[0].merge(cells[-1])
                self._fill(merged, values[0], size, "l", bold=True, colour=RGBColor.from_string(ACCENT))
                merged.paragraphs[0].paragraph_format.keep_with_next = True  # a group heading stays with its rows
                _shade_cell(merged, GROUP)
                continue
            fill = MARK if r in t.highlight else (BAND if r % 2 else None)
            for k, value in enumerate(values):
                self._fill(cells[k], value, size, t.align[k], bold=r in t.highlight)
                if fill:
                    _shade_cell(cells[k], fill)
        _set_widths(table, widths)
        if len(t.rows) <= KEEP_TOGETHER_ROWS:  # a short table is not split across pages
            for row in table.rows[:-1]:
                for cell in row.cells:
                    cell.paragraphs[0].paragraph_format.keep_with_next = True
        self.doc.add_paragraph().paragraph_format.space_after = Pt(2)

    @staticmethod
    def _fill(cell, text: str, size: float, align: str, *, bold: bool = False, colour: RGBColor | None = None) -> None:
        paragraph = cell.paragraphs[0]
        paragraph.paragraph_format.space_after = Pt(0)
        paragraph.paragraph_format.line_spacing = 1.0
        paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT if align == "r" else WD_ALIGN_PARAGRAPH.LEFT
        for k, line in enumerate(str(text).split("\n")):
            if k:
                paragraph.add_run().add_break()
            run = paragraph.add_run(line)
            run.font.size, run.bold = Pt(size), bold or None
            if colour is not None:
                run.font.color.rgb = colour

    def box(self, fill: str, border: str) -> DocxParagraph:
        """A one-cell shaded table (code listings, notes); returns its paragraph."""
        table = self.doc.add_table(rows=1, cols=1)
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        table.autofit = False
        _table_borders(table, outer=False)
        _set_widths(table, [self.width])
        cell = table.rows[0].cells[0]
        _cell_left_border(cell, border)
        _shade_cell(cell, fill)
        return cell.paragraphs[0]

    def code(self, c: Code) -> None:
        """One paragraph per line with a hanging indent, so wrapped lines read as continuations."""
        paragraph = self.box(CODE_BG, ACCENT)
        for k, line in enumerate(c.lines):
            if k:
                paragraph = paragraph._parent.add_paragraph()
            fmt = paragraph.paragraph_format
            fmt.line_spacing, fmt.space_after = 1.0, Pt(1)
            fmt.left_indent, fmt.first_line_indent = Cm(0.6), Cm(-0.6)
            run = paragraph.add_run(line)
            run.font.name, run.font.size = MONO, Pt(8)
        self.doc.add_paragraph().paragraph_format.space_after = Pt(2)

    def note(self, n: Note) -> None:
        warning = n.tone == "warning"
        paragraph = self.box(WARN_BG if warning else NOTE_BG, WARN if warning else ACCENT)
        paragraph.paragraph_format.space_after = Pt(0)
        self.runs(paragraph, n.body)
        self.doc.add_paragraph().paragraph_format.space_after = Pt(0)

    def figure(self, f: Figure) -> None:
        paragraph = self.doc.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        paragraph.paragraph_format.keep_with_next = True
        paragraph.add_run().add_picture(io.BytesIO(charts.to_png(f.spec)), width=min(self.width, Cm(16.5)))
        self.caption(f.label, f.caption, keep_with_next=False)
        self.doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER

    def bullets(self, b: Bullets) -> None:
        for item in b.items:
            if b.checklist:
                paragraph = self.doc.add_paragraph()
                fmt = paragraph.paragraph_format
                fmt.left_indent, fmt.first_line_indent, fmt.space_after = Cm(0.8), Cm(-0.6), Pt(3)
                box = paragraph.add_run("☐\t")
                box.font.color.rgb = RGBColor.from_string(ACCENT)
                fmt.tab_stops.add_tab_stop(Cm(0.8))
            else:
                paragraph = self.doc.add_paragraph(style="List Bullet")
                paragraph.paragraph_format.space_after = Pt(2)
            self.runs(paragraph, item)

    def block(self, b: Block, before_display: bool) -> None:
        """One block; a paragraph that introduces a table, list, listing or chart stays on its page."""
        if isinstance(b, Paragraph):
            paragraph = self.doc.add_paragraph()
            paragraph.paragraph_format.keep_with_next = before_display
            self.runs(paragraph, b)
        elif isinstance(b, Subheading):
            self.doc.add_heading(f"{b.number} {b.title}", level=2)
        elif isinstance(b, Bullets):
            self.bullets(b)
        elif isinstance(b, Note):
            self.note(b)
        elif isinstance(b, Table):
            self.table(b)
        elif isinstance(b, Figure):
            self.figure(b)
        elif isinstance(b, Code):
            self.code(b)

    def section(self, s: Section, landscape_before: bool) -> None:
        if s.landscape != landscape_before:
            new = self.doc.add_section(WD_SECTION.NEW_PAGE)
            new.orientation = WD_ORIENT.LANDSCAPE if s.landscape else WD_ORIENT.PORTRAIT
            new.page_width, new.page_height = (PAGE_H, PAGE_W) if s.landscape else (PAGE_W, PAGE_H)
        heading = self.doc.add_heading(f"{s.number}. {s.title}", level=1)
        heading.paragraph_format.page_break_before = s.new_page and s.landscape == landscape_before
        for b, after in zip(s.blocks, (*s.blocks[1:], None), strict=True):
            self.block(b, isinstance(after, (Table, Bullets, Code, Figure)))

    def render(self) -> bytes:
        self._title_block()
        landscape = False
        for s in self.a.sections:
            self.section(s, landscape)
            landscape = s.landscape
        self._properties()
        out = io.BytesIO()
        self.doc.save(out)
        return _fixed_zip(out.getvalue(), self.a.generated)

    def _properties(self) -> None:
        props = self.doc.core_properties
        stamp = dt.datetime(self.a.generated.year, self.a.generated.month, self.a.generated.day)
        props.title, props.subject = self.a.title, self.a.kicker
        props.author = props.last_modified_by = self.a.firm or "CertStrategy"
        props.keywords = ", ".join(self.a.keywords)
        props.comments = f"Generated by CertStrategy {ENGINE_VERSION}"
        props.category = "Proposal appendix"
        props.created = props.modified = props.last_printed = stamp
        props.revision = 1


def _fixed_zip(data: bytes, day: dt.date) -> bytes:
    """The same package with every entry stamped `day` 00:00, so equal documents are equal bytes."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=(day.year, day.month, day.day, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(entry, source.read(info.filename))
    return out.getvalue()


def render_docx(appendix: Appendix) -> bytes:
    """The .docx bytes of the appendix."""
    return _Writer(appendix).render()
