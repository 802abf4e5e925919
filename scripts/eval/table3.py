#!/usr/bin/env python3
"""The paper's Table 3 from one `prism eval` report: a markdown table and a bar chart.

usage: table3.py REPORT_JSON OUTPUT_DIR [--dataset NAME] [--trained NAME=FILE ...] [--note TEXT ...]

REPORT_JSON is `prism eval`'s report.json (run with --semantic for the BERTScore and GPTScore columns).
--trained NAME=FILE adds what training a system cost: the student's prism.json ("training") or a
baseline's summary.json. Writes OUTPUT_DIR/table3.md and OUTPUT_DIR/table3.png and prints the table.
"""
import argparse
import json
import os
import sys

# Report names -> the table's rows, in the paper's order (the teacher first, the baselines last).
ROWS = [
    ("teacher", "Teacher (rule oracle)"),
    ("prism-free", "Prism"),
    ("prism-nouser-free", "Prism w/o User"),
    ("prism-student", "Prism, grounded decoding"),
    ("prism-nouser-student", "Prism w/o User, grounded decoding"),
    ("att2seq", "Att2Seq"),
    ("pepler", "PEPLER"),
    ("bart-zero-shot", "BART zero-shot"),
]


def fmt(value, digits=1):
    return "—" if value is None else f"{value:.{digits}f}"


def external(report, name, prefix):
    for key, value in report.get("external", {}).get(name, {}).items():
        if key.startswith(prefix):
            return value, key
    return None, None


def training_facts(path):
    with open(path) as f:
        doc = json.load(f)
    t = doc.get("training", doc)
    return {"parameters": t.get("parameters"), "steps": t.get("steps"), "seconds": t.get("train_seconds"),
            "valid_loss": t.get("valid_loss")}


def table(report, trained):
    systems = {s["name"]: s for s in report["systems"]}
    known = [(name, label) for name, label in ROWS if name in systems]
    known += [(name, name) for name in systems if name not in dict(ROWS)]
    bert_label = gpt_label = None
    header = ["system", "ROUGE-L", "BERTScore-F1", "GPTScore", "grounded %", "item named %", "wrong title %",
              "unsupported %", "false claim %", "FMR %", "USR", "distinct-2", "template %", "changes for unknown user %",
              "changes for other user %", "parameters", "training steps", "training s"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    bars = []
    for name, label in known:
        s = systems[name]
        bert, bk = external(report, name, "BERTScore")
        gpt, gk = external(report, name, "GPTScore")
        bert_label, gpt_label = bert_label or bk, gpt_label or gk
        lex, fa, dv, us = s.get("lexical"), s["faithfulness"], s["diversity"], s.get("userSensitivity")
        t = trained.get(name, {})
        params = t.get("parameters")
        row = [label, fmt(lex["rougeL"] if lex else None, 2), fmt(bert, 2), fmt(gpt, 3), fmt(fa["fullyGrounded"]),
               fmt(fa["itemNamed"]), fmt(fa["wrongTitle"]), fmt(fa["unsupportedSpan"]), fmt(fa["falseClaim"]),
               fmt(fa.get("featureMatchingRatio")), fmt(dv["uniqueSentenceRatio"], 3), fmt(dv["distinct2"], 3),
               fmt(dv["templateShare"]), fmt(us["changedUnknown"] if us else None),
               fmt(us["changedOther"] if us else None), f"{params / 1e6:.2f}M" if params else "—",
               str(t["steps"]) if t.get("steps") else "—", fmt(t.get("seconds"), 0)]
        lines.append("| " + " | ".join(row) + " |")
        bars.append((label, lex["rougeL"] if lex else None, fa["fullyGrounded"], fa["itemNamed"], bert))
    notes = [f"{report['dataset']}, {report['split']} split, {report['cases']} cases; command: `{report.get('command', '')}`"]
    if bert_label:
        notes.append(bert_label)
    if gpt_label:
        notes.append(gpt_label + " (higher is better)")
    return lines, notes, bars


def chart(bars, path, title):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    metrics = [("ROUGE-L", 1), ("fully grounded %", 2), ("item named %", 3), ("BERTScore-F1", 4)]
    metrics = [(m, k) for m, k in metrics if any(b[k] is not None for b in bars)]
    fig, ax = plt.subplots(figsize=(max(7, 2.2 * len(metrics) + 2), 4.2))
    width = 0.8 / max(1, len(bars))
    for j, bar in enumerate(bars):
        xs = [i + j * width for i in range(len(metrics))]
        values = [bar[k] if bar[k] is not None else 0 for _, k in metrics]
        drawn = ax.bar(xs, values, width, label=bar[0])
        ax.bar_label(drawn, labels=["" if bar[k] is None else f"{bar[k]:.0f}" for _, k in metrics], fontsize=6)
    ax.set_xticks([i + width * (len(bars) - 1) / 2 for i in range(len(metrics))], [m for m, _ in metrics])
    ax.set_ylim(0, 105)
    ax.set_title(title)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("report")
    ap.add_argument("output")
    ap.add_argument("--dataset", help="the dataset's name for the title (default: the report's data folder)")
    ap.add_argument("--trained", action="append", default=[], help="NAME=FILE (repeatable)")
    ap.add_argument("--note", action="append", default=[], help="a line under the table (repeatable)")
    args = ap.parse_args(argv)
    with open(args.report) as f:
        report = json.load(f)
    trained = {}
    for pair in args.trained:
        name, _, path = pair.partition("=")
        facts = training_facts(path)
        for alias in (name, name + "-free", name + "-student"):
            trained[alias] = facts
    lines, notes, bars = table(report, trained)
    os.makedirs(args.output, exist_ok=True)
    text = "\n".join(lines + [""] + [f"- {n}" for n in notes + args.note]) + "\n"
    with open(os.path.join(args.output, "table3.md"), "w") as f:
        f.write(text)
    chart(bars, os.path.join(args.output, "table3.png"),
          f"Table 3 — {args.dataset or report['dataset']}, {report['split']} split, {report['cases']} cases")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
