import Foundation
import PrismWire
import XCTest

final class FrameCodecTests: XCTestCase {
    func sampleEnvelope() -> Envelope {
        var e = Envelope()
        e.requestID = "r-1"
        e.service = "prism.explain"
        e.method = "explain"
        e.deadlineUnixMs = 1_700_000_000_123
        e.attempt = 2
        e.metadata = ["a": "1", "b": "é"]
        e.body = Data([0, 1, 2, 250])
        return e
    }

    func testEveryMessageRoundTrips() throws {
        let client: [ClientMessage] = [.request(sampleEnvelope()), .cancel({ var c = Cancel(); c.requestID = "x"; return c }()),
                                       .health({ var h = HealthRequest(); h.service = "echo"; h.requestID = "h"; return h }())]
        for message in client { XCTAssertEqual(try ClientMessage.decode(message.frames[...]), message) }
        let reply = Reply(requestID: "r-1", status: .resourceExhausted, message: "full", workerID: "w")
        for message: ClientResponse in [.reply(reply), .health(HealthReply())] {
            XCTAssertEqual(try ClientResponse.decode(message.frames[...]), message)
        }
        var ready = Ready(); ready.service = "echo"; ready.capacity = 3
        var heartbeat = Heartbeat(); heartbeat.draining = true
        for message: WorkerMessage in [.ready(ready), .reply(reply), .heartbeat(heartbeat), .disconnect(Disconnect())] {
            XCTAssertEqual(try WorkerMessage.decode(message.frames[...]), message)
        }
        for message: BrokerMessage in [.request(sampleEnvelope()), .heartbeat(Heartbeat()), .cancel(Cancel()), .disconnect(Disconnect())] {
            XCTAssertEqual(try BrokerMessage.decode(message.frames[...]), message)
        }
    }

    func testAForwardedRequestCarriesTheBrokersAttemptAndEverythingElseAsSent() throws {
        let sent = ClientMessage.request(sampleEnvelope()).frames[2]
        for attempt: UInt32 in [0, 1, 3, 127, 128, 300, .max] {
            let frames = BrokerMessage.requestFrames(encoded: sent, attempt: attempt)
            guard case .request(let forwarded) = try BrokerMessage.decode(frames[...]) else { return XCTFail("not a request") }
            var expected = sampleEnvelope()
            expected.attempt = attempt
            XCTAssertEqual(forwarded, expected, "attempt \(attempt)")
            XCTAssertEqual(frames[0], ProtocolTag.worker)
            XCTAssertEqual(frames[1], [Command.request.rawValue])
        }
        // An envelope without an attempt of its own gets one as well.
        var bare = Envelope()
        bare.requestID = "r"
        let frames = BrokerMessage.requestFrames(encoded: try bare.serializedBytes(), attempt: 2)
        guard case .request(let forwarded) = try BrokerMessage.decode(frames[...]) else { return XCTFail("not a request") }
        XCTAssertEqual(forwarded.attempt, 2)
        XCTAssertEqual(forwarded.requestID, "r")
    }

    func testFrameLayoutIsTagCommandBody() throws {
        let frames = ClientMessage.request(sampleEnvelope()).frames
        XCTAssertEqual(frames.count, 3)
        XCTAssertEqual(frames[0], Array("PRISM/C1".utf8))
        XCTAssertEqual(frames[1], [0x02])
        XCTAssertEqual(try Envelope(serializedBytes: frames[2]), sampleEnvelope())
        XCTAssertEqual(WorkerMessage.ready(Ready()).frames[0], Array("PRISM/W1".utf8))
    }

    func testMalformedMessagesGiveTypedErrors() {
        let tag = ProtocolTag.client
        func error(_ frames: [[UInt8]], max: Int = 100) -> WireError? {
            do { _ = try ClientMessage.decode(frames[...], maxBodyBytes: max); return nil } catch { return error }
        }
        XCTAssertEqual(error([tag]), .wrongFrameCount(got: 1, expected: 3))
        XCTAssertEqual(error([Array("HTTP/1.1".utf8)]), .unknownProtocol(tag: Array("HTTP/1.1".utf8)))
        XCTAssertEqual(error([Array("XXXX".utf8), [2], []]), .unknownProtocol(tag: Array("XXXX".utf8)))
        XCTAssertEqual(error([tag, [], []]), .malformedCommandFrame(length: 0))
        XCTAssertEqual(error([tag, [0x7F], []]), .unknownCommand(0x7F))
        XCTAssertEqual(error([tag, [Command.ready.rawValue], []]), .commandNotAllowed(.ready, from: "client"))
        XCTAssertEqual(error([tag, [2], Array(repeating: 1, count: 101)]), .bodyTooLarge(bytes: 101, limit: 100))
        guard case .malformedBody(.request, _)? = error([tag, [2], [0xFF, 0xFF, 0xFF]]) else { return XCTFail("invalid protobuf accepted") }
        // Valid bytes of the wrong field type are rejected too (field 1 as varint instead of string).
        guard case .malformedBody? = error([tag, [2], [0x08, 0x01, 0x0A]]) else { return XCTFail("truncated field accepted") }
    }

    func testStatusCodeNamesMatchGRPC() {
        XCTAssertEqual(StatusCode.deadlineExceeded.rawValue, 4)
        XCTAssertEqual(StatusCode.deadlineExceeded.name, "DEADLINE_EXCEEDED")
        XCTAssertEqual(StatusCode.unavailable.rawValue, 14)
        XCTAssertEqual(StatusCode.resourceExhausted.rawValue, 8)
    }
}
