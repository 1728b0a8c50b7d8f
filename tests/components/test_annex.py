"""The Voluntary Local Review annex: generated from the demo city in two languages (content
checks on the HTML), printed to PDF by headless Chromium (page count and text with pypdf), and
served by `/sdg/annex`."""

from __future__ import annotations

import datetime as dt
import html
import io
import re
from pathlib import Path

import pytest

from components.annex import CHROMIUM, build_html, build_pdf
from components.evidence import Evidence
from datasets.evidence.interventions import pilot_id
from datasets.evidence.summary import caveats, summary_text
from datasets.indicators import REGISTRY, evaluate
from i18n import LANGUAGES, fmt_percent, t
from tests.components.evidence_sample import sample_evidence, sample_intervention

needs_chromium = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} missing (./dev test installs it)"
)
GENERATED = dt.datetime(2017, 12, 7, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def evaluation(demo_workspace, demo_city):
    return evaluate(demo_workspace.engine, demo_city)


@pytest.fixture(scope="module")
def english(evaluation) -> str:
    return build_html(evaluation, "en", GENERATED)


@pytest.fixture(scope="module")
def chinese(evaluation) -> str:
    return build_html(evaluation, "zh", GENERATED)


def text_of(document: str) -> str:
    body = document.split("</style>", 1)[-1]
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)))


def test_the_english_annex_has_every_figure_with_source_method_and_date(english, evaluation):
    text = text_of(english)
    assert english.startswith("<!DOCTYPE html>") and '<html lang="en">' in english
    assert "Voluntary Local Review: statistical annex" in text
    assert "Hangzhou: SDG indicators computed from the city's data" in text
    assert "Generated on 7 Dec 2017" in text
    figures = re.findall(r'<figure id="fig-([a-z0-9_]+)">(.*?)</figure>', english, re.S)
    assert [f[0] for f in figures] == [
        r.id for _, results, _ in evaluation.by_target() for r in results
    ]
    assert len(figures) == len(REGISTRY)
    for number, (indicator_id, body) in enumerate(figures, 1):
        assert f"Figure {number}. " in body
        assert t(f"sdg.ind.{indicator_id}.name", "en") in html.unescape(body)
        for label in ("Source", "Method", "Date", "Reference", "Period"):
            assert f"<dt>{label}</dt>" in body, (indicator_id, label)
        assert "version 1 of" in body and "synthetic demo data" in body
        assert "data of 1 Jan 2017 to 31 Dec 2017; computed on" in body
        assert "<svg" in body  # the trend, drawn inline
    pm25 = dict(figures)["pm25_annual"]
    assert "WHO 2021 air-quality guideline: 5 µg/m³ annual mean" in pm25
    assert "Above every WHO interim target" in pm25
    assert "Monthly values within 2017" in pm25


def test_the_annex_lists_gaps_datasets_and_warns_about_synthetic_data(english, evaluation):
    text = text_of(english)
    assert "Data gaps" in text
    for gap in evaluation.gaps:
        assert t(f"sdg.gap.{gap.id}.name", "en") in text
    assert "Road deaths per year from police or health records." in text
    for dataset in evaluation.datasets:
        assert dataset.id in text
    assert "must not be reported as the city's own" in text
    assert "Notes on method" in text


def test_the_annex_is_self_contained(english, chinese):
    for document in (english, chinese):
        assert "<script" not in document
        assert not re.search(r'(src|href)="(https?:)?//', document)
        assert "<link" not in document


def test_the_chinese_annex_is_in_chinese(chinese):
    text = text_of(chinese)
    assert '<html lang="zh-Hans">' in chinese
    assert "地方自愿审查：统计附件" in text
    assert "杭州：基于城市数据计算的可持续发展目标指标" in text
    assert "PM2.5 年均浓度（人口加权）" in text
    assert "图 1" in text and "数据缺口" in text
    assert "2017年1月1日" in text  # dates written the Chinese way
    assert "Voluntary Local Review" not in text


def test_an_unknown_language_is_refused(evaluation):
    with pytest.raises(ValueError):
        build_html(evaluation, "de")


@needs_chromium
def test_the_pdf_prints_in_english_and_chinese(english, chinese):
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(build_pdf(english)))
    assert len(reader.pages) >= 4
    first = reader.pages[0].extract_text()
    assert "Voluntary Local Review" in first and "Hangzhou" in first
    whole = " ".join(page.extract_text() for page in reader.pages)
    assert "Figure 15" in whole and "Notes on method" in whole

    reader = PdfReader(io.BytesIO(build_pdf(chinese)))
    assert len(reader.pages) >= 4
    # Chromium embeds its glyphs as Type 3 fonts with a Unicode map: Chinese text comes back out
    # of the PDF only if the CJK font drew it (a missing glyph would map to nothing)
    assert "统计附件" in reader.pages[0].extract_text()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_annex_states_each_evaluated_intervention_in_every_language(evaluation, lang):
    evaluated = sample_evidence(pct=10.4, ci_pct=(7.1, 13.8))
    broken = Evidence(sample_intervention("bus-lane"), None, "failed")
    document = build_html(evaluation, lang, GENERATED, interventions=[evaluated, broken])
    text = text_of(document)
    heading = f"4. {t('annex.section.interventions', lang)}"
    assert heading in text
    section = text[text.index(heading) : text.index(f"5. {t('annex.section.sources', lang)}")]
    iv, ev = evaluated.intervention, evaluated.evaluation
    assert summary_text(ev, iv, lang) in section
    for caveat in caveats(ev, iv, lang):
        assert caveat in section
    lo, hi = ("+" + fmt_percent(v / 100, lang, 1) for v in ev.ci95_pct)
    row = re.search(r"<tr><td>Corridor retiming</td>.*?</tr>", document, re.S)[0]
    assert html.escape("+" + fmt_percent(0.104, lang, 1)) in row
    assert html.escape(t("present.evidence.range", lang, lo=lo, hi=hi)) in row
    assert 'id="iv-bus-lane"' in document
    assert section.count(t("annex.evidence.failed", lang)) == 2  # its row and its account


def test_an_annex_without_interventions_says_none_were_evaluated(english):
    text = text_of(english)
    assert "4. Evaluated interventions" in text and t("annex.evidence.none", "en") in text
    assert "5. Datasets" in text and "6. Notes on method" in text


def test_the_route_serves_html_and_pdf(demo_workspace, demo_city):
    import config
    from app import create_app

    cfg = config.Config(data_dir=demo_workspace.data_dir)
    client = create_app(cfg, demo_workspace).server.test_client()
    response = client.get("/sdg/annex?lang=fr&format=html")
    assert response.status_code == 200 and response.mimetype == "text/html"
    served = response.get_data(as_text=True)
    assert "Examen local volontaire : annexe statistique" in served
    assert f'id="iv-{pilot_id(demo_city.id)}"' in served  # the demo's pilot, evaluated
    assert t("annex.evidence.failed", "fr") not in served
    assert client.get("/sdg/annex?lang=de").status_code == 400
    assert client.get("/sdg/annex?format=docx").status_code == 400
    assert client.get("/sdg/annex?city=atlantis").status_code == 404
    if Path(CHROMIUM).exists():
        response = client.get("/sdg/annex?lang=es&format=pdf&download=1")
        assert response.status_code == 200 and response.mimetype == "application/pdf"
        assert response.data.startswith(b"%PDF")
        assert "attachment" in response.headers["Content-Disposition"]
