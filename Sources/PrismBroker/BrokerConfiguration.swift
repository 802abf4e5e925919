import PrismSecurity
import PrismWire

/// Everything that shapes the broker's routing decisions. Times are in milliseconds.
public struct BrokerConfiguration: Sendable, Equatable {
    /// Heartbeats go to every worker this often; workers send theirs at the same rate.
    public var heartbeatIntervalMs: Int64 = 1_000
    /// A worker silent for this many intervals is dead.
    public var heartbeatLiveness: Int64 = 3
    /// Requests waiting per service before new ones are refused with RESOURCE_EXHAUSTED.
    public var maxQueuedPerService: Int = 10_000
    /// How often one request may be handed to another worker after its worker was lost.
    public var maxRedispatches: Int = 3
    /// How long a request waits for a service that has no workers before UNAVAILABLE
    /// (or less, when its deadline comes first).
    public var unavailableGraceMs: Int64 = 2_000
    /// Services without a worker that may have requests waiting at once (their names come from
    /// clients, unauthenticated): a request for yet another such service is answered UNAVAILABLE at
    /// once and leaves no state. A service's entry is dropped when it has no worker and nothing waiting.
    public var maxServicesWithoutWorkers: Int = 1_000
    /// Metadata a client's request may carry (entries, and bytes of keys and values together);
    /// more is INVALID_ARGUMENT, before the broker stores or forwards it.
    public var maxMetadataEntries: Int = 64
    public var maxMetadataBytes: Int = 16 << 10
    /// Answered request ids remembered for replaying the reply to a client's retry.
    public var replayCacheSize: Int = 50_000
    /// Bytes the replay cache may hold (reply bodies and messages, plus 256 per entry); the oldest
    /// entries go first. A reply larger than this is not kept (a re-send of it runs again).
    public var replayCacheBytes: Int = 64 << 20
    /// Under CURVE: which client keys may call which services, and which worker keys may register
    /// for which (nil: no authorization; every peer may do everything).
    public var access: AccessPolicy?
    /// Largest body frame accepted from a client or worker; larger gets RESOURCE_EXHAUSTED.
    public var maxBodyBytes: Int = defaultMaxBodyBytes

    public init() {}

    /// Time after which a silent worker is dead.
    public var workerExpiryMs: Int64 { heartbeatIntervalMs * heartbeatLiveness }
}
