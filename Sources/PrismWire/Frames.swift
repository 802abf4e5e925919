import Foundation
import SwiftProtobuf

public typealias Envelope = Prism_V1_Envelope
public typealias Reply = Prism_V1_Reply
public typealias Status = Prism_V1_Status
public typealias StatusCode = Prism_V1_Status.Code
public typealias Ready = Prism_V1_Ready
public typealias Heartbeat = Prism_V1_Heartbeat
public typealias Disconnect = Prism_V1_Disconnect
public typealias Cancel = Prism_V1_Cancel
public typealias HealthRequest = Prism_V1_HealthRequest
public typealias HealthReply = Prism_V1_HealthReply
public typealias ServiceHealth = Prism_V1_ServiceHealth

/// Every way a message can fail to decode. One enum for the module.
public enum WireError: Error, Equatable, CustomStringConvertible, Sendable {
    case wrongFrameCount(got: Int, expected: Int)
    case unknownProtocol(tag: [UInt8])
    case unknownCommand(UInt8)
    case commandNotAllowed(Command, from: String)
    case malformedCommandFrame(length: Int)
    case malformedBody(Command, reason: String)
    case bodyTooLarge(bytes: Int, limit: Int)

    public var description: String {
        switch self {
        case .wrongFrameCount(let got, let expected): return "expected \(expected) frames, got \(got)"
        case .unknownProtocol(let tag): return "unknown protocol tag \(tag.prefix(16).map { String(format: "%02x", $0) }.joined())"
        case .unknownCommand(let byte): return "unknown command 0x\(String(byte, radix: 16))"
        case .commandNotAllowed(let command, let from): return "command \(command) is not valid from a \(from)"
        case .malformedCommandFrame(let length): return "the command frame has \(length) bytes, expected 1"
        case .malformedBody(let command, let reason): return "malformed \(command) body: \(reason)"
        case .bodyTooLarge(let bytes, let limit): return "body of \(bytes) bytes exceeds the \(limit)-byte limit"
        }
    }
}

/// The command frame: one byte.
public enum Command: UInt8, Sendable, CustomStringConvertible {
    case ready = 0x01
    case request = 0x02
    case reply = 0x03
    case heartbeat = 0x04
    case disconnect = 0x05
    case cancel = 0x06
    case health = 0x07

    public var description: String {
        switch self {
        case .ready: return "READY"
        case .request: return "REQUEST"
        case .reply: return "REPLY"
        case .heartbeat: return "HEARTBEAT"
        case .disconnect: return "DISCONNECT"
        case .cancel: return "CANCEL"
        case .health: return "HEALTH"
        }
    }
}

/// Protocol tags: the first frame of every message (after the ROUTER's routing id).
public enum ProtocolTag {
    /// Clients and the broker's frontend.
    public static let client: [UInt8] = Array("PRISM/C1".utf8)
    /// Workers and the broker's backend.
    public static let worker: [UInt8] = Array("PRISM/W1".utf8)
}

/// The default limit on a body frame (4 MiB); the broker's is configurable.
public let defaultMaxBodyBytes = 4 << 20

/// Broker endpoints given as one option, separated by commas (failover order); blanks are dropped.
public func brokerEndpoints(_ list: String) -> [String] {
    list.split(separator: ",").map { String($0.trimmingCharacters(in: .whitespaces)) }.filter { !$0.isEmpty }
}

/// Splits `[tag, command, body]` after checking the tag and frame count.
@inline(__always)
func parse(_ frames: ArraySlice<[UInt8]>, tag: [UInt8], maxBodyBytes: Int) throws(WireError) -> (Command, [UInt8]) {
    guard frames.count == 3 else {
        if let first = frames.first, first != tag { throw .unknownProtocol(tag: first) }
        throw .wrongFrameCount(got: frames.count, expected: 3)
    }
    let start = frames.startIndex
    guard frames[start] == tag else { throw .unknownProtocol(tag: frames[start]) }
    let commandFrame = frames[start + 1]
    guard commandFrame.count == 1 else { throw .malformedCommandFrame(length: commandFrame.count) }
    guard let command = Command(rawValue: commandFrame[0]) else { throw .unknownCommand(commandFrame[0]) }
    let body = frames[start + 2]
    guard body.count <= maxBodyBytes else { throw .bodyTooLarge(bytes: body.count, limit: maxBodyBytes) }
    return (command, body)
}

@inline(__always)
func decodeBody<M: SwiftProtobuf.Message>(_ type: M.Type, _ body: [UInt8], _ command: Command) throws(WireError) -> M {
    do {
        return try M(serializedBytes: body)
    } catch {
        throw .malformedBody(command, reason: String(describing: error))
    }
}

@inline(__always)
func frames(_ tag: [UInt8], _ command: Command, _ body: some SwiftProtobuf.Message) -> [[UInt8]] {
    // Serializing the generated messages cannot fail (no required fields, no Any).
    let bytes: [UInt8] = (try? body.serializedBytes()) ?? []
    return [tag, [command.rawValue], bytes]
}
