import Logging
import SDWANCore

/// Drop and refusal logs on a small flash budget: at most one line per key per `interval`, each
/// saying how many were suppressed since the last one.
struct RateLimitedLog {
    var interval: TimeSpan = .seconds(10)
    private var last: [String: (at: Instant, suppressed: Int)] = [:]

    /// Logs `message` at `level` unless `key` logged within the interval (then it is only counted).
    mutating func log(
        _ logger: Logger,
        _ level: Logger.Level,
        key: String,
        now: Instant,
        _ message: @autoclosure () -> String
    ) {
        if let entry = last[key], now - entry.at < interval {
            last[key]!.suppressed += 1
            return
        }
        let suppressed = last[key]?.suppressed ?? 0
        last[key] = (now, 0)
        var metadata: Logger.Metadata = ["key": .string(key)]
        if suppressed > 0 { metadata["suppressed"] = .stringConvertible(suppressed) }
        logger.log(level: level, "\(message())", metadata: metadata)
    }
}

/// How engine events are logged (state changes, rekeys), the same on both nodes.
enum EngineEventLog {
    /// `peerKey` names the peer's metadata key: `branch` on the hub, `hub` on the edge.
    static func log(
        _ event: EngineEvent,
        branch: String?,
        peerKey: String = "branch",
        linkName: (UInt8) -> String,
        logger: Logger
    ) {
        var metadata: Logger.Metadata = [:]
        if let branch { metadata[peerKey] = .string(branch) }
        switch event {
        case .link(let id, let change):
            metadata["link"] = .string(linkName(id))
            metadata["from"] = .string("\(change.from)")
            metadata["to"] = .string("\(change.to)")
            metadata["reason"] = .string("\(change.reason)")
            logger.notice("link state changed", metadata: metadata)
        case .path(let classIndex, let choice, _):
            metadata["class"] = .stringConvertible(classIndex)
            metadata["links"] = .string(choice.links.map(String.init).joined(separator: ","))
            metadata["reason"] = .string("\(choice.reason)")
            logger.info("class moved", metadata: metadata)
        case .session(let session):
            metadata["event"] = .string("\(session)")
            logger.notice("session", metadata: metadata)
        case .linksAnnounced(let links):
            metadata["links"] = .string(links.map { "\($0)" }.joined(separator: "; "))
            logger.info("links announced", metadata: metadata)
        }
    }
}
