import Foundation
import PrismData

/// The human evaluation of the paper's Appendix A: blind, shuffled rating sheets and their scores.
public enum HumanEvaluation {
    /// The three 5-point Likert dimensions and what each asks the annotator.
    public static let dimensions: [(name: String, question: String)] = [
        ("persuasiveness", "How convincing is the explanation as a reason to watch the recommended film? (1 not at all – 5 very)"),
        ("personalization", "How much does the explanation speak to this user's own history rather than to anyone? (1 generic – 5 clearly about this user)"),
        ("faithfulness", "Is every film, person, genre and era it mentions correct for this history and this film? (1 mostly wrong – 5 all correct)"),
    ]

    public struct SheetRow: Sendable, Equatable {
        public var row: Int
        public var sampleID: String
        public var system: String
        public var history: String
        public var item: String
        public var explanation: String
    }

    /// `count` cases × every system, shuffled with `seed`, numbered 1…; the system stays in the key only.
    public static func sheet(cases: [EvalCase], systems: [SystemOutputs], count: Int, seed: UInt64) -> [SheetRow] {
        var rng = SeededRandom(seed: seed)
        let usable = cases.filter { c in systems.allSatisfy { $0.texts[c.sample.sampleID] != nil } }
        let chosen = Array(usable.shuffled(using: &rng).prefix(max(0, count)))
        var rows: [SheetRow] = []
        for c in chosen {
            let history = c.facts.history.map(label).joined(separator: "; ")
            let item = label(c.facts.item)
            for s in systems {
                rows.append(SheetRow(row: 0, sampleID: c.sample.sampleID, system: s.name, history: history, item: item,
                                     explanation: s.texts[c.sample.sampleID] ?? ""))
            }
        }
        rows.shuffle(using: &rng)
        for i in rows.indices { rows[i].row = i + 1 }
        return rows
    }

    /// "Heat (1995)".
    static func label(_ item: CatalogItem) -> String {
        guard let year = item.year else { return item.title }
        return "\(item.title) (\(year))"
    }

    /// The annotators' sheet: row, history, item, explanation, one empty column per dimension.
    public static func sheetCSV(_ rows: [SheetRow]) -> String {
        var lines = [(["row", "history", "item", "explanation"] + dimensions.map(\.name)).map(csvField).joined(separator: ",")]
        for r in rows { lines.append(([String(r.row), r.history, r.item, r.explanation] + dimensions.map { _ in "" }).map(csvField).joined(separator: ",")) }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The key, kept apart from the sheets: row → sample id and system.
    public static func keyCSV(_ rows: [SheetRow]) -> String {
        (["row,sample_id,system"] + rows.map { "\($0.row),\(csvField($0.sampleID)),\(csvField($0.system))" }).joined(separator: "\n") + "\n"
    }

    /// A self-contained page: the dimensions' questions, one block per row with 1–5 choices, and a
    /// button that downloads the filled sheet as CSV (same columns as `sheetCSV`).
    public static func sheetHTML(_ rows: [SheetRow]) -> String {
        func esc(_ s: String) -> String {
            s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
        }
        var html = """
        <!doctype html><html><head><meta charset="utf-8"><title>Prism explanation rating</title>
        <style>body{font-family:sans-serif;max-width:60em;margin:auto}div.r{border:1px solid #ccc;padding:.6em;margin:.6em 0}
        .e{font-size:1.1em;margin:.4em 0}label{margin-right:.8em}</style></head><body>
        <h1>Rate each explanation</h1><p>Each block shows a user's recent films, a recommended film and an explanation of
        why it was recommended. The system that wrote it is hidden. Rate it on each dimension from 1 to 5:</p><ul>
        """
        for d in dimensions { html += "<li><b>\(d.name)</b>: \(esc(d.question))</li>" }
        html += "</ul>"
        for r in rows {
            html += "<div class=\"r\" data-row=\"\(r.row)\" data-history=\"\(esc(r.history))\" data-item=\"\(esc(r.item))\" data-explanation=\"\(esc(r.explanation))\">"
            html += "<b>#\(r.row)</b> History: \(esc(r.history))<br>Recommended: <b>\(esc(r.item))</b><div class=\"e\">“\(esc(r.explanation))”</div>"
            for d in dimensions {
                html += "<div>\(d.name): " + (1...5).map { "<label><input type=\"radio\" name=\"\(d.name)-\(r.row)\" value=\"\($0)\">\($0)</label>" }.joined() + "</div>"
            }
            html += "</div>"
        }
        let names = dimensions.map { "'\($0.name)'" }.joined(separator: ",")
        html += """
        <button onclick="save()">Download my ratings (CSV)</button>
        <script>
        function q(s){return '"'+String(s).replace(/"/g,'""')+'"';}
        function save(){const dims=[\(names)];let out=['row','history','item','explanation'].concat(dims).map(q).join(',')+'\\n';
        document.querySelectorAll('div.r').forEach(function(b){const n=b.dataset.row;const v=dims.map(function(d){
        const c=document.querySelector('input[name="'+d+'-'+n+'"]:checked');return c?c.value:'';});
        out+=[n,b.dataset.history,b.dataset.item,b.dataset.explanation].concat(v).map(q).join(',')+'\\n';});
        const a=document.createElement('a');a.href=URL.createObjectURL(new Blob([out],{type:'text/csv'}));a.download='ratings.csv';a.click();}
        </script></body></html>
        """
        return html
    }

    static func csvField(_ s: String) -> String {
        s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }
}
