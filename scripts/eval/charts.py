#!/usr/bin/env python3
"""PNG charts of a `prism eval` report (report.json), written beside it.

  faithfulness.png   fully grounded / item named / wrong title / unsupported span / false claim, per system
  lexical.png        ROUGE-1/2/L and BLEU-1/4 per system (systems with references)
  diversity.png      USR, distinct-1/2 and template share per system

usage: charts.py REPORT_JSON [OUTPUT_DIR]
"""
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def grouped_bars(path, title, systems, metrics, ylabel, ylim=None):
    fig, ax = plt.subplots(figsize=(max(6, 1.6 * len(metrics) + 2), 4))
    width = 0.8 / max(1, len(systems))
    for k, (name, values) in enumerate(systems):
        xs = [i + k * width for i in range(len(metrics))]
        bars = ax.bar(xs, values, width, label=name)
        ax.bar_label(bars, fmt="%.1f", fontsize=7)
    ax.set_xticks([i + width * (len(systems) - 1) / 2 for i in range(len(metrics))], [m for m in metrics])
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if ylim:
        ax.set_ylim(*ylim)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[1]) as f:
        report = json.load(f)
    out = argv[2] if len(argv) > 2 else os.path.dirname(os.path.abspath(argv[1]))
    os.makedirs(out, exist_ok=True)
    systems = report["systems"]
    title = f'{report["dataset"]}, {report["split"]} split'
    f_keys = [("fullyGrounded", "grounded"), ("itemNamed", "item named"), ("wrongTitle", "wrong title"),
              ("unsupportedSpan", "unsupported"), ("falseClaim", "false claim")]
    grouped_bars(os.path.join(out, "faithfulness.png"), f"Faithfulness — {title}",
                 [(s["name"], [s["faithfulness"][k] for k, _ in f_keys]) for s in systems],
                 [label for _, label in f_keys], "% of explanations", (0, 105))
    lexical = [s for s in systems if s.get("lexical")]
    if lexical:
        l_keys = [("rouge1", "ROUGE-1"), ("rouge2", "ROUGE-2"), ("rougeL", "ROUGE-L"), ("bleu1", "BLEU-1"), ("bleu4", "BLEU-4")]
        grouped_bars(os.path.join(out, "lexical.png"), f"Against the goldens — {title}",
                     [(s["name"], [s["lexical"][k] for k, _ in l_keys]) for s in lexical],
                     [label for _, label in l_keys], "score (0–100)", (0, 105))
    d_keys = [("uniqueSentenceRatio", "USR ×100", 100), ("distinct1", "distinct-1 ×100", 100),
              ("distinct2", "distinct-2 ×100", 100), ("templateShare", "template %", 1)]
    grouped_bars(os.path.join(out, "diversity.png"), f"Diversity — {title}",
                 [(s["name"], [s["diversity"][k] * scale for k, _, scale in d_keys]) for s in systems],
                 [label for _, label, _ in d_keys], "", (0, 105))
    print(f"charts: {out}/faithfulness.png, diversity.png" + (", lexical.png" if lexical else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
