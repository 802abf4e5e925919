import Foundation
import PrismBroker
import PrismWire

/// `prism bench broker-state`: the broker's own work per echo request with the sockets taken away —
/// decoding the client's request and the worker's reply, the routing state machine, and the frames it
/// sends on — in nanoseconds, next to what making those two messages costs a client and a worker (the
/// same protobuf work, done once each), measured in the same run. It isolates the part of `bench fleet`'s
/// broker CPU that is Swift rather than libzmq and the kernel.
public struct BrokerStateBench {
    public struct Measurement: Sendable {
        /// Nanoseconds per request: the broker's decode, state machine and outgoing frames.
        public var brokerNs: Double
        /// Nanoseconds per request: encoding the request and the reply (the inputs).
        public var inputsNs: Double
    }

    let payload: [UInt8]
    let inFlight: Int
    let client = PeerID(Array("bench-client".utf8))
    let workers: [PeerID]
    var state: BrokerState
    var counter = 0
    var outstanding: [(worker: PeerID, frames: [[UInt8]])] = []
    /// Keeps the optimizer from dropping the frames built for sending.
    public private(set) var framesBuilt = 0

    /// - Parameters:
    ///   - workers: echo workers registered, each with capacity `inFlight` (all requests fit).
    ///   - inFlight: requests outstanding at once, as with that many closed-loop callers.
    public init(workers: Int = 2, inFlight: Int = 16, payloadBytes: Int = 64) {
        self.payload = [UInt8](repeating: 0x61, count: max(0, payloadBytes))
        self.inFlight = max(1, inFlight)
        self.workers = (0..<max(1, workers)).map { PeerID([0, 0, 0, 1, UInt8(truncatingIfNeeded: $0)]) }
        let now = unixTimeMs()
        state = BrokerState(now: now)
        for (i, worker) in self.workers.enumerated() {
            var ready = Ready()
            ready.service = "echo"
            ready.capacity = UInt32(self.inFlight)
            ready.workerID = "echo\(i)"
            _ = state.handle(worker: worker, .ready(ready), now: now)
        }
    }

    /// A client's request, and its frames as the broker receives them (routing id first).
    mutating func makeRequest(now: Int64) -> (envelope: Envelope, frames: [[UInt8]]) {
        counter += 1
        var envelope = Envelope()
        envelope.requestID = RequestID.make()  // the Swift client's ids: 36 characters, on the heap
        envelope.service = "echo"
        envelope.deadlineUnixMs = now + 30_000
        envelope.body = Data(payload)
        return (envelope, [client.bytes] + ClientMessage.request(envelope).frames)
    }

    /// The echo worker's reply to `envelope`, as the broker receives it.
    func replyFrames(_ worker: PeerID, _ envelope: Envelope) -> [[UInt8]] {
        var reply = Reply(requestID: envelope.requestID, status: .ok, workerID: "echo")
        reply.body = envelope.body
        return [worker.bytes] + WorkerMessage.reply(reply).frames
    }

    /// `count` requests through the broker's path; returns nanoseconds per request, the inputs' share included.
    mutating func routeRequests(_ count: Int) throws -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        var answered = 0
        while answered < count {
            while outstanding.count < inFlight {
                let now = unixTimeMs()
                let frames = makeRequest(now: now).frames
                let message = try ClientMessage.decode(frames.dropFirst())
                var dispatched = false
                for case .dispatch(let worker, let envelope) in state.handle(client: PeerID(frames[0]), message, now: now) {
                    framesBuilt &+= ([worker.bytes] + BrokerMessage.requestFrames(encoded: frames[3], attempt: envelope.attempt)).count
                    outstanding.append((worker, replyFrames(worker, envelope)))
                    dispatched = true
                }
                // Capacity covers every request in flight: anything else is a broken bench, not a number.
                guard dispatched else { throw BenchError.notReady("the broker state did not dispatch request \(counter)") }
            }
            let (worker, frames) = outstanding.removeFirst()
            let message = try WorkerMessage.decode(frames.dropFirst())
            for case .reply(let to, _, _, _) in state.handle(worker: worker, message, encoded: frames[3], now: unixTimeMs()) {
                framesBuilt &+= ([to.bytes] + ClientResponse.replyFrames(encoded: frames[3])).count
                answered += 1
            }
        }
        return Double(DispatchTime.now().uptimeNanoseconds - start) / Double(count)
    }

    /// `count` requests' inputs alone (encoded, never decoded: decoding is the broker's share); nanoseconds
    /// per request.
    mutating func makeInputs(_ count: Int) -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<count {
            let (envelope, frames) = makeRequest(now: unixTimeMs())
            framesBuilt &+= frames.count + replyFrames(workers[0], envelope).count
        }
        return Double(DispatchTime.now().uptimeNanoseconds - start) / Double(count)
    }

    /// One round: `count` requests routed, then `count` requests' inputs made alone.
    public mutating func measure(requests count: Int) throws -> Measurement {
        let all = try routeRequests(count)
        let inputs = makeInputs(count)
        return Measurement(brokerNs: max(0, all - inputs), inputsNs: inputs)
    }
}
