import Foundation
import PrismWire
import PrismTeacherService
import PrismWorker
import PrismTestSupport
import XCTest
@testable import PrismTeacher

final class RuleOracleTests: XCTestCase {
    func facts(_ id: String, _ title: String, year: Int32 = 0, genres: [String] = [], directors: [String] = [],
               actors: [String] = [], plot: String = "") -> ItemFacts {
        var f = ItemFacts()
        f.itemID = id; f.title = title; f.year = year; f.genres = genres; f.directors = directors; f.actors = actors; f.plot = plot
        return f
    }

    func prompt(_ history: [ItemFacts], _ item: ItemFacts, sample: String = "s1") -> TeacherPrompt {
        var p = TeacherPrompt()
        p.sampleID = sample; p.history = history; p.item = item; p.prompt = "…"
        return p
    }

    func testSharedDirectorIsTheLeadingReason() {
        let history = [facts("1", "Jaws", year: 1975, genres: ["Thriller"], directors: ["Steven Spielberg"]),
                       facts("2", "Heat", year: 1995, genres: ["Crime"], directors: ["Michael Mann"])]
        let item = facts("3", "Jurassic Park", year: 1993, genres: ["Adventure", "Sci-Fi"], directors: ["Steven Spielberg"])
        let (text, evidence) = RuleOracle().explain(prompt(history, item))
        XCTAssertEqual(evidence.first, .director("Steven Spielberg", titles: ["Jaws"]))
        XCTAssertTrue(text.contains("Jurassic Park") && text.contains("Jaws") && text.contains("Steven Spielberg"), text)
        XCTAssertFalse(text.contains("Heat"), "only history items that share the fact are named")
    }

    /// The user style: a user keeps one voice over all their samples, users differ, the checked facts are
    /// the same whoever asks — and the default style never looks at the user.
    func testTheUserStyleGivesEachUserOneVoiceOverTheSameFacts() {
        let history = [facts("1", "Jaws", year: 1975, genres: ["Thriller", "Drama"], directors: ["Steven Spielberg"]),
                       facts("2", "Heat", year: 1995, genres: ["Crime", "Drama"], actors: ["Al Pacino"]),
                       facts("4", "Casino", year: 1995, genres: ["Crime", "Drama"], actors: ["Robert De Niro"])]
        let item = facts("3", "Jurassic Park", year: 1993, genres: ["Drama", "Crime"], directors: ["Steven Spielberg"])
        func asked(by user: String, sample: String, _ oracle: RuleOracle) -> (text: String, evidence: [RuleOracle.Evidence]) {
            var p = prompt(history, item, sample: sample)
            p.userID = user
            return oracle.explain(p)
        }
        let byUser = RuleOracle(style: .user), bySample = RuleOracle()
        XCTAssertNotEqual(byUser.teacherID, bySample.teacherID, "goldens record which style wrote them")
        var voices = Set<String>()
        for user in (1...40).map({ "u\($0)" }) {
            let texts = Set((1...6).map { asked(by: user, sample: "s\($0)", byUser).text })
            XCTAssertEqual(texts.count, 1, "user \(user) keeps one voice for the same facts: \(texts)")
            voices.formUnion(texts)
        }
        XCTAssertGreaterThanOrEqual(voices.count, 5, "users differ (3 wordings × 2 reason orders)")
        // Whoever asks, the same two checked reasons are given (only their order and wording change).
        let reasons = Set((1...40).map { Set(asked(by: "u\($0)", sample: "s1", byUser).evidence.map { "\($0)" }) })
        XCTAssertEqual(reasons.count, 1)
        XCTAssertEqual(reasons.first?.count, 2)
        // The sample style ignores the user: the same sample reads the same for everyone.
        XCTAssertEqual(Set((1...40).map { asked(by: "u\($0)", sample: "s1", bySample).text }).count, 1)
        // An unknown user (no id) falls back to the sample's wording.
        XCTAssertEqual(asked(by: "", sample: "s1", byUser).text, asked(by: "", sample: "s1", bySample).text)
    }

    func testEmptyHistoryDescribesTheItemOnly() {
        let item = facts("3", "Alien", year: 1979, genres: ["Horror", "Sci-Fi"])
        let (text, evidence) = RuleOracle().explain(prompt([], item))
        XCTAssertEqual(evidence, [.itemOnly])
        XCTAssertEqual(text, "Alien is a horror and sci-fi film from 1979 that would add some variety to what you have been watching.")
    }

    /// Faithfulness on many random samples: every claim checks out against the facts, every film
    /// named is the item or in the history, at most two sentences, same output for same input.
    func testEveryClaimIsSupportedByTheData() {
        var rng = TestRandom(seed: 7)
        let directors = ["Ann Lee", "Bo Kim", "Cy Ray", "Di Fox"], actors = ["Eve Moss", "Fay Ng", "Gus Orr", "Hal Poe", "Ida Quinn"]
        let genres = ["Action", "Comedy", "Drama", "Horror", "Romance", "Sci-Fi"]
        let plots = ["a tale of revenge and love", "war and survival at sea", "a family wedding", "space aliens invade", "a quiet day"]
        func randomItem(_ id: Int) -> ItemFacts {
            facts("\(id)", "Film \(id)", year: Int32.random(in: 1960...2000, using: &rng),
                  genres: Array(genres.shuffled(using: &rng).prefix(Int.random(in: 0...3, using: &rng))),
                  directors: Bool.random(using: &rng) ? [directors.randomElement(using: &rng)!] : [],
                  actors: Array(actors.shuffled(using: &rng).prefix(Int.random(in: 0...3, using: &rng))),
                  plot: plots.randomElement(using: &rng)!)
        }
        let oracle = RuleOracle()
        for n in 0..<2_000 {
            let history = (0..<Int.random(in: 0...12, using: &rng)).map { randomItem(1_000 + n * 20 + $0) }
            let item = randomItem(n)
            let p = prompt(history, item, sample: "s\(n)")
            let (text, evidence) = oracle.explain(p)
            XCTAssertEqual(oracle.explain(p).text, text, "deterministic")
            XCTAssertLessThanOrEqual(text.filter { $0 == "." }.count, 2, text)
            let byTitle = Dictionary(history.map { ($0.title, $0) }, uniquingKeysWith: { a, _ in a })
            for claim in evidence {
                switch claim {
                case .director(let name, let titles):
                    XCTAssertTrue(item.directors.contains(name))
                    for t in titles { XCTAssertTrue(byTitle[t]?.directors.contains(name) ?? false, "\(t) not by \(name)") }
                case .actor(let name, let titles):
                    XCTAssertTrue(item.actors.contains(name))
                    for t in titles { XCTAssertTrue(byTitle[t]?.actors.contains(name) ?? false) }
                case .genres(let gs, let titles):
                    for g in gs { XCTAssertTrue(item.genres.contains(g)) }
                    for t in titles { XCTAssertTrue(Set(byTitle[t]?.genres ?? []).isSuperset(of: gs), "\(t) lacks one of \(gs)") }
                case .theme(let word, let titles):
                    XCTAssertTrue(item.plot.contains(word))
                    for t in titles { XCTAssertTrue(byTitle[t]?.plot.contains(word) ?? false) }
                case .era(let decade, let titles):
                    XCTAssertEqual(item.year / 10 * 10, Int32(decade))
                    for t in titles { XCTAssertEqual((byTitle[t]?.year ?? 0) / 10 * 10, Int32(decade)) }
                case .itemOnly:
                    XCTAssertEqual(evidence.count, 1)
                }
            }
            // Every "Film N" mentioned is the item or a history item.
            let named = text.matches(of: /Film \d+/).map { String($0.output) }
            let allowed = Set(history.map(\.title) + [item.title])
            for title in named { XCTAssertTrue(allowed.contains(title), "\(title) is invented: \(text)") }
        }
    }

    func testTeacherHandlerAnswersEachPromptInOrder() async throws {
        var shard = TeacherShard()
        shard.shardID = "sh-1"
        shard.prompts = (0..<5).map { i in prompt([], facts("\(i)", "Film \(i)", genres: ["Drama"]), sample: "s\(i)") }
        var envelope = Envelope()
        envelope.body = try shard.serializedData()
        let result = await TeacherHandler(backend: RuleOracle()).handle(batch: [WorkRequest(envelope: envelope)])[0]
        XCTAssertEqual(result.status.code, .ok)
        let decoded = try TeacherShardResult(serializedBytes: result.body)
        XCTAssertEqual(decoded.shardID, "sh-1")
        XCTAssertEqual(decoded.results.map(\.sampleID), ["s0", "s1", "s2", "s3", "s4"])
        XCTAssertTrue(decoded.results.allSatisfy { $0.teacherID == "rule-oracle/1" && $0.status.code == .ok })
        XCTAssertTrue(decoded.results[3].explanation.hasPrefix("Film 3 is a drama film"), decoded.results[3].explanation)
    }

    func testTeacherHandlerRejectsABadBody() async {
        var envelope = Envelope()
        envelope.body = Data([0xFF, 0xFF, 0x01])
        let result = await TeacherHandler(backend: RuleOracle()).handle(batch: [WorkRequest(envelope: envelope)])[0]
        XCTAssertEqual(result.status.code, .invalidArgument)
        XCTAssertTrue(result.status.message.contains("TeacherShard"))
    }
}

