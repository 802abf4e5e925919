import Foundation
import SwiftProtobuf

/// Client → broker (frontend).
public enum ClientMessage: Sendable, Equatable {
    case request(Envelope)
    case cancel(Cancel)
    case health(HealthRequest)

    public var frames: [[UInt8]] {
        switch self {
        case .request(let envelope): return PrismWire.frames(ProtocolTag.client, .request, envelope)
        case .cancel(let cancel): return PrismWire.frames(ProtocolTag.client, .cancel, cancel)
        case .health(let health): return PrismWire.frames(ProtocolTag.client, .health, health)
        }
    }

    /// Decodes the frames after the routing id.
    public static func decode(_ frames: ArraySlice<[UInt8]>, maxBodyBytes: Int = defaultMaxBodyBytes) throws(WireError) -> ClientMessage {
        let (command, body) = try parse(frames, tag: ProtocolTag.client, maxBodyBytes: maxBodyBytes)
        switch command {
        case .request: return .request(try decodeBody(Envelope.self, body, command))
        case .cancel: return .cancel(try decodeBody(Cancel.self, body, command))
        case .health: return .health(try decodeBody(HealthRequest.self, body, command))
        default: throw .commandNotAllowed(command, from: "client")
        }
    }
}

/// Broker → client.
public enum ClientResponse: Sendable, Equatable {
    case reply(Reply)
    case health(HealthReply)

    public var frames: [[UInt8]] {
        switch self {
        case .reply(let reply): return PrismWire.frames(ProtocolTag.client, .reply, reply)
        case .health(let health): return PrismWire.frames(ProtocolTag.client, .health, health)
        }
    }

    /// The frames of `.reply` for a `Reply` already in its protobuf encoding (a broker forwarding a
    /// worker's reply as received).
    public static func replyFrames(encoded reply: [UInt8]) -> [[UInt8]] {
        [ProtocolTag.client, [Command.reply.rawValue], reply]
    }

    public static func decode(_ frames: ArraySlice<[UInt8]>, maxBodyBytes: Int = .max) throws(WireError) -> ClientResponse {
        let (command, body) = try parse(frames, tag: ProtocolTag.client, maxBodyBytes: maxBodyBytes)
        switch command {
        case .reply: return .reply(try decodeBody(Reply.self, body, command))
        case .health: return .health(try decodeBody(HealthReply.self, body, command))
        default: throw .commandNotAllowed(command, from: "broker frontend")
        }
    }
}

/// Worker → broker (backend).
public enum WorkerMessage: Sendable, Equatable {
    case ready(Ready)
    case reply(Reply)
    case heartbeat(Heartbeat)
    case disconnect(Disconnect)

    public var frames: [[UInt8]] {
        switch self {
        case .ready(let ready): return PrismWire.frames(ProtocolTag.worker, .ready, ready)
        case .reply(let reply): return PrismWire.frames(ProtocolTag.worker, .reply, reply)
        case .heartbeat(let heartbeat): return PrismWire.frames(ProtocolTag.worker, .heartbeat, heartbeat)
        case .disconnect(let disconnect): return PrismWire.frames(ProtocolTag.worker, .disconnect, disconnect)
        }
    }

    public static func decode(_ frames: ArraySlice<[UInt8]>, maxBodyBytes: Int = defaultMaxBodyBytes) throws(WireError) -> WorkerMessage {
        let (command, body) = try parse(frames, tag: ProtocolTag.worker, maxBodyBytes: maxBodyBytes)
        switch command {
        case .ready: return .ready(try decodeBody(Ready.self, body, command))
        case .reply: return .reply(try decodeBody(Reply.self, body, command))
        case .heartbeat: return .heartbeat(try decodeBody(Heartbeat.self, body, command))
        case .disconnect: return .disconnect(try decodeBody(Disconnect.self, body, command))
        default: throw .commandNotAllowed(command, from: "worker")
        }
    }
}

/// Broker → worker.
public enum BrokerMessage: Sendable, Equatable {
    case request(Envelope)
    case heartbeat(Heartbeat)
    case disconnect(Disconnect)
    case cancel(Cancel)

    public var frames: [[UInt8]] {
        switch self {
        case .request(let envelope): return PrismWire.frames(ProtocolTag.worker, .request, envelope)
        case .heartbeat(let heartbeat): return PrismWire.frames(ProtocolTag.worker, .heartbeat, heartbeat)
        case .disconnect(let disconnect): return PrismWire.frames(ProtocolTag.worker, .disconnect, disconnect)
        case .cancel(let cancel): return PrismWire.frames(ProtocolTag.worker, .cancel, cancel)
        }
    }

    /// The frames of `.request` for an Envelope already in its protobuf encoding (a broker forwarding a
    /// client's request as received), with `attempt` set to the broker's count: protobuf keeps the last
    /// value of a repeated scalar field, so appending field 5 overrides whatever the client sent without
    /// decoding and encoding the rest again.
    public static func requestFrames(encoded envelope: [UInt8], attempt: UInt32) -> [[UInt8]] {
        var body = envelope
        body.reserveCapacity(envelope.count + 6)
        body.append(0x28)  // field 5 (attempt), wire type 0 (varint)
        var value = attempt
        while value >= 0x80 {
            body.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        body.append(UInt8(value))
        return [ProtocolTag.worker, [Command.request.rawValue], body]
    }

    public static func decode(_ frames: ArraySlice<[UInt8]>, maxBodyBytes: Int = .max) throws(WireError) -> BrokerMessage {
        let (command, body) = try parse(frames, tag: ProtocolTag.worker, maxBodyBytes: maxBodyBytes)
        switch command {
        case .request: return .request(try decodeBody(Envelope.self, body, command))
        case .heartbeat: return .heartbeat(try decodeBody(Heartbeat.self, body, command))
        case .disconnect: return .disconnect(try decodeBody(Disconnect.self, body, command))
        case .cancel: return .cancel(try decodeBody(Cancel.self, body, command))
        default: throw .commandNotAllowed(command, from: "broker backend")
        }
    }
}

extension Status {
    public init(_ code: StatusCode, _ message: String = "") {
        self.init()
        self.code = code
        self.message = message
    }
}

extension Reply {
    /// A reply carrying only a status (the broker's own answers, errors).
    public init(requestID: String, status code: StatusCode, message: String = "", workerID: String = "") {
        self.init()
        self.requestID = requestID
        self.status = Status(code, message)
        self.workerID = workerID
    }
}

extension StatusCode {
    /// gRPC's canonical upper-case name, e.g. "DEADLINE_EXCEEDED".
    public var name: String {
        switch self {
        case .ok: return "OK"
        case .cancelled: return "CANCELLED"
        case .unknown: return "UNKNOWN"
        case .invalidArgument: return "INVALID_ARGUMENT"
        case .deadlineExceeded: return "DEADLINE_EXCEEDED"
        case .notFound: return "NOT_FOUND"
        case .alreadyExists: return "ALREADY_EXISTS"
        case .permissionDenied: return "PERMISSION_DENIED"
        case .resourceExhausted: return "RESOURCE_EXHAUSTED"
        case .failedPrecondition: return "FAILED_PRECONDITION"
        case .aborted: return "ABORTED"
        case .outOfRange: return "OUT_OF_RANGE"
        case .unimplemented: return "UNIMPLEMENTED"
        case .internal: return "INTERNAL"
        case .unavailable: return "UNAVAILABLE"
        case .dataLoss: return "DATA_LOSS"
        case .unauthenticated: return "UNAUTHENTICATED"
        case .UNRECOGNIZED(let value): return "CODE_\(value)"
        }
    }
}
