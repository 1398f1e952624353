"""decision.slugs: the one file-name stem of the app's downloads, the appendix and the commands' request files."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

import decision
from decision.appendix import download_name
from decision.commands import _slug
from decision.slugs import file_name, slug


@pytest.mark.parametrize(("org", "expected"), [
    ("Øresund ApS", "oresund-aps"), ("Łódź Sp. z o.o.", "lodz-sp-z-o-o"), ("Æon plc", "aeon-plc"),
    ("Đakovo d.o.o.", "dakovo-d-o-o"), ("Þórður ehf", "thordur-ehf"), ("Œuvre SA", "oeuvre-sa"),
    ("ØLÆ", "olae")])
def test_latin_letters_nfkd_leaves_alone_are_transliterated_too(org, expected):
    """Review rev14 judgement F: ä, ó and ß became ASCII but Ø, Ł and Æ stayed, so one name mixed both ('łodz')."""
    assert slug(org) == expected


def test_ascii_names_keep_the_app_download_names_they_had():
    assert file_name("Contoso Inc (2007 article)", "options", "csv") == "contoso-inc-2007-article-options.csv"
    ev = decision.evaluate({"org": "Contoso Inc", "external_domain": "contoso.com", "users": 10})
    assert download_name(ev, 0, "docx") == "contoso-inc-certificate-strategy.docx"


@pytest.mark.parametrize(("org", "expected"), [
    ("Ärztekammer Nordrhein", "arztekammer-nordrhein"), ("Øresund ApS", "oresund-aps"),
    ("株式会社テスト", "exchange"), ("Contoso Inc (2007 article)", "contoso-inc-2007-article"),
    ("x" * 100, "x" * 40)])
def test_the_request_file_names_transliterate_and_stay_ascii(org, expected):
    """Review rev14 judgement F: the commands' own slug dropped non-ASCII letters ('rztekammer')."""
    assert _slug(org) == expected


@pytest.mark.parametrize("org", ["O'Brien ‘Ltd’ ‚x‛", 'a\\b/c:d*e?f"g<h>i|j', "CON", "..\\..\\Windows", "$(calc)",
                                 "`whoami`", "Ærø ; rm -rf", "  ...  "])
def test_request_file_names_are_safe_in_a_windows_path_and_a_single_quoted_string(org):
    """Only ASCII letters, digits and inner hyphens: no separator, drive colon, dot, quote (typographic ones included,
    which PowerShell also takes as single quotes), backtick or $ reaches a path or a '...' string."""
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", _slug(org))


def test_the_appendix_names_its_download_without_loading_the_ui_module():
    """Review rev14 judgement F: download_name imported decision.views (the UI module, with Altair) for the slug."""
    code = ("import sys, decision; from decision.appendix import download_name; "
            "ev = decision.evaluate({'org': 'Øresund ApS', 'external_domain': 'x.com', 'users': 10}); "
            "print(download_name(ev, 0, 'md'), 'decision.views' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["oresund-aps-certificate-strategy.md", "False"]
