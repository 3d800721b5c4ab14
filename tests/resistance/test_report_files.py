"""The resistance report as files a laboratory keeps (issue 18): a PDF to sign and the lollipop
plots as SVG, from the CLI, the API and the web form (chromium prints the PDF, as for the case
report)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from cmvcds.adapters.cli.main import app as cli
from tests.api.conftest import app, client

__all__ = ["app", "client"]  # the API/web fixtures

DATA = Path(__file__).parent / "data" / "herpesdrg"
SVG = "{http://www.w3.org/2000/svg}"
runner = CliRunner()


def circles(svg: str) -> dict[str, tuple[float, str]]:
    """Mutation id -> (stem top y, fill) of each lollipop head."""
    root = ET.fromstring(svg)
    return {
        c.attrib["data-mutation"]: (float(c.attrib["cy"]), c.attrib["fill"])
        for c in root.iter(f"{SVG}circle")
    }


def test_cli_svg_draws_each_mutation_at_its_frequency() -> None:
    vcf = DATA / "HCMV_A10.vcf"
    result = runner.invoke(cli, ["resistance", "--vcf", str(vcf), "--format", "svg"])
    assert result.exit_code == 0, result.output
    heads = circles(result.stdout)
    root = ET.fromstring(result.stdout)
    genes = [s.attrib["data-gene"] for s in root.iter(f"{SVG}svg") if "data-gene" in s.attrib]
    assert genes == ["UL97", "UL54", "UL56", "UL89", "UL51", "UL27"][: len(genes)]
    assert "UL97" in genes and "UL54" in genes
    # C480F 58 % is called (filled, resistance red) and stands higher than C592G 11 %;
    # H411Y 2 % is a minority variant (hollow)
    assert heads["UL97:C480F"][1] == "#b30000" and heads["UL97:C592G"][1] == "#b30000"
    assert heads["UL97:C480F"][0] < heads["UL97:C592G"][0]
    assert heads["UL97:H411Y"][1] == "white"


def test_cli_pdf_and_the_formats_that_render_one_sample(tmp_path: Path) -> None:
    result = runner.invoke(
        cli, ["resistance", "--virus", "hsv1", "--mutations", "UL30:F716L", "--format", "pdf"]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes.startswith(b"%PDF") and len(result.stdout_bytes) > 5000
    batch = tmp_path / "b.tsv"
    batch.write_text("s1\tUL97:M460V\n")
    refused = runner.invoke(cli, ["resistance", "--batch", str(batch), "--format", "pdf"])
    assert refused.exit_code == 2 and "renders one sample" in refused.output


def test_api_pdf_and_svg(client: TestClient) -> None:
    body = {"mutations": ["UL97:M460V", "UL54:A809V"]}
    pdf = client.post("/api/v1/resistance/report.pdf", json=body)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    svg = client.post("/api/v1/resistance/lollipop.svg", json=body)
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert set(circles(svg.text)) == {"UL97:M460V", "UL54:A809V"}
    bad = client.post("/api/v1/resistance/lollipop.svg", json={"mutations": ["UL97:A460V"]})
    assert bad.status_code == 422


def test_web_form_downloads(client: TestClient) -> None:
    page = client.get("/resistance")
    assert 'formaction="/resistance/report.pdf"' in page.text
    files = {"sequence": ("a10.vcf", (DATA / "HCMV_A10.vcf").read_bytes())}
    svg = client.post("/resistance/lollipop.svg", data={"virus": "cmv"}, files=files)
    assert svg.status_code == 200 and "UL97:C480F" in circles(svg.text)
    pdf = client.post("/resistance/report.pdf", data={"mutations": "UL97:C592G"})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    # an input problem gives the form again with the problem, not a broken file
    bad = client.post("/resistance/report.pdf", data={"mutations": ""})
    assert bad.status_code == 422 and "give mutations" in bad.text
