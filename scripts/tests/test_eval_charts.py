"""scripts/eval/charts.py draws every chart of a prism eval report (report.json as PrismEval writes it)."""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CHARTS = os.path.join(os.path.dirname(HERE), "eval", "charts.py")


def system(name, grounded, lexical=True):
    s = {"name": name, "count": 10, "missing": 0,
         "faithfulness": {"fullyGrounded": grounded, "itemNamed": 90.0, "wrongTitle": 5.0, "unsupportedSpan": 10.0,
                          "falseClaim": 2.0, "featureCases": 8, "featureMatchingRatio": 75.0},
         "diversity": {"uniqueSentenceRatio": 0.9, "distinct1": 0.2, "distinct2": 0.4, "templateShare": 40.0,
                       "topTemplates": [{"skeleton": "[ITEM] is a [GENRE] film.", "count": 4}]}}
    if lexical:
        s["lexical"] = {"rouge1": 40.0, "rouge2": 20.0, "rougeL": 30.0, "rouge1Stemmed": 41.0, "rouge2Stemmed": 21.0,
                        "rougeLStemmed": 31.0, "bleu1": 35.0, "bleu4": 15.0, "pairs": 10}
    return s


def test_charts_are_png_files(tmp_path):
    report = {"dataset": "toy", "split": "test", "cases": 10, "references": 10, "command": "prism eval",
              "external": {}, "systems": [system("teacher", 100.0, lexical=False), system("prism", 62.5)]}
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report))
    subprocess.run([sys.executable, CHARTS, str(path)], check=True, capture_output=True)
    for name in ("faithfulness.png", "lexical.png", "diversity.png"):
        data = (tmp_path / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n", name
        assert len(data) > 5000, name
