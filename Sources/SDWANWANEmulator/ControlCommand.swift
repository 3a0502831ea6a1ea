import SDWANConfig
import SDWANCore
import SDWANLinkModel

/// One command to a running emulator, as typed after `sdwan wanem ctl` and carried as one line of
/// text over the control socket.
///
/// Grammar (words separated by spaces; `LINK` may carry `:up` or `:down` to act on one direction):
/// ```
/// stats                                   ground truth as JSON
/// links                                   link names and ports, one per line
/// LINK down | cut                         drop everything offered (cause `cut`)
/// LINK up | restore                       end a cut
/// LINK loss 2% | loss 1% burst 3 | loss none
/// LINK delay 80ms [jitter 5ms]            base delay (and normal jitter σ)
/// LINK rate 5mbit [queue 50ms] | rate unlimited
/// LINK mtu 1400 | mtu none
/// LINK duplicate 1%
/// LINK reset                              back to the topology's model, cut ended
/// LINK rebind                             new hub-facing source port
/// ```
public enum ControlCommand: Hashable, Sendable {
    case stats
    case links
    case link(name: String, direction: TimelineDirection, action: ControlAction)

    /// Parses one command line; the error says what was wrong and what is valid.
    public static func parse(_ line: String) throws(ControlCommandError) -> ControlCommand {
        let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" })
            .map(String.init)
        guard let first = words.first else { throw ControlCommandError("empty command; \(usage)") }
        if first == "stats" || first == "links" {
            guard words.count == 1 else { throw ControlCommandError("`\(first)` takes no arguments") }
            return first == "stats" ? .stats : .links
        }
        var name = first
        var direction = TimelineDirection.both
        if let colon = first.firstIndex(of: ":") {
            name = String(first[..<colon])
            let suffix = String(first[first.index(after: colon)...])
            guard let d = TimelineDirection(rawValue: suffix), d != .both else {
                throw ControlCommandError("`\(first)`: direction `\(suffix)` is not `up` or `down`")
            }
            direction = d
        }
        guard !name.isEmpty else { throw ControlCommandError("a link name is missing before `:`; \(usage)") }
        guard words.count >= 2 else {
            throw ControlCommandError("`\(first)` needs an action: \(ControlAction.names.joined(separator: ", "))")
        }
        let action = try ControlAction.parse(Array(words.dropFirst()))
        if action == .rebind && direction != .both {
            throw ControlCommandError(
                "`rebind` acts on the link's socket, which carries both directions; drop `:\(direction)`"
            )
        }
        return .link(name: name, direction: direction, action: action)
    }

    /// A one-line summary of the grammar, for errors.
    public static let usage =
        "expected `stats`, `links` or `LINK[:up|:down] ACTION` with ACTION one of "
        + "down, up, loss 2%, loss 1% burst 3, delay 80ms [jitter 5ms], rate 5mbit [queue 50ms], "
        + "mtu 1400, duplicate 1%, reset, rebind"
}

/// What to do to a link.
public enum ControlAction: Hashable, Sendable {
    case cut
    case restore
    case loss(LossModel)
    case delay(TimeSpan, jitter: JitterDistribution?)
    case rate(RateLimit?)
    case mtu(Int?)
    case duplicate(Double)
    case reset
    case rebind

    static let names = ["down", "up", "loss", "delay", "rate", "mtu", "duplicate", "reset", "rebind"]

    static func parse(_ words: [String]) throws(ControlCommandError) -> ControlAction {
        let verb = words[0]
        let args = Array(words.dropFirst())
        func noArguments(_ action: ControlAction) throws(ControlCommandError) -> ControlAction {
            guard args.isEmpty else { throw ControlCommandError("`\(verb)` takes no arguments") }
            return action
        }
        switch verb {
        case "down", "cut": return try noArguments(.cut)
        case "up", "restore": return try noArguments(.restore)
        case "reset": return try noArguments(.reset)
        case "rebind": return try noArguments(.rebind)
        case "loss": return try parseLoss(args)
        case "delay": return try parseDelay(args)
        case "rate": return try parseRate(args)
        case "mtu":
            guard args.count == 1 else { throw ControlCommandError("usage: mtu 1400 | mtu none") }
            if args[0] == "none" { return .mtu(nil) }
            guard let mtu = Int(args[0]), (68...65_535).contains(mtu) else {
                throw ControlCommandError("`\(args[0])` is not an MTU; expected an integer from 68 to 65535, or none")
            }
            return .mtu(mtu)
        case "duplicate":
            guard args.count == 1 else { throw ControlCommandError("usage: duplicate 1%") }
            return .duplicate(try ratio(args[0], below: 1, what: "duplication"))
        default:
            throw ControlCommandError(
                "unknown action `\(verb)`; expected one of: \(names.joined(separator: ", "))"
            )
        }
    }

    static func parseLoss(_ args: [String]) throws(ControlCommandError) -> ControlAction {
        let usage = "usage: loss 2% | loss 1% burst 3 | loss none"
        if args == ["none"] { return .loss(.none) }
        guard args.count == 1 || (args.count == 3 && args[1] == "burst") else { throw ControlCommandError(usage) }
        let p = try ratio(args[0], below: 1, what: "loss")
        guard args.count == 3 else { return .loss(p == 0 ? .none : .bernoulli(p: p)) }
        guard let burst = Double(args[2]), burst >= 1 else {
            throw ControlCommandError("`\(args[2])` is not a mean burst; expected a number ≥ 1")
        }
        return .loss(p == 0 ? .none : .gilbert(lossRatio: p, meanBurst: burst))
    }

    static func parseDelay(_ args: [String]) throws(ControlCommandError) -> ControlAction {
        guard args.count == 1 || (args.count == 3 && args[1] == "jitter") else {
            throw ControlCommandError("usage: delay 80ms | delay 80ms jitter 5ms")
        }
        let base = try duration(args[0])
        guard args.count == 3 else { return .delay(base, jitter: nil) }
        let std = try duration(args[2])
        return .delay(base, jitter: std == .zero ? JitterDistribution.none : .normal(std: std))
    }

    static func parseRate(_ args: [String]) throws(ControlCommandError) -> ControlAction {
        let usage = "usage: rate 5mbit | rate 5mbit queue 50ms | rate 5mbit queue 64kB | rate unlimited"
        if args == ["unlimited"] { return .rate(nil) }
        guard args.count == 1 || (args.count == 3 && args[1] == "queue") else { throw ControlCommandError(usage) }
        guard let bps = Quantity.parseBitsPerSecond(args[0]) else {
            throw ControlCommandError("`\(args[0])` is not a bit rate; expected e.g. 5mbit, 512kbit or unlimited")
        }
        var queue = QueueLimit.bytes(max(1_500, Int(Double(bps) * 0.05 / 8)))
        if args.count == 3 {
            if let ns = Quantity.parseDurationNanoseconds(args[2]), ns > 0 {
                queue = .bytes(max(1_500, Int(Double(bps) * Double(ns) / 8e9)))
            } else if let bytes = Quantity.parseBytes(args[2]), bytes > 0 {
                queue = .bytes(bytes)
            } else {
                throw ControlCommandError(
                    "`\(args[2])` is not a queue; expected a time at the rate (50ms) or a size (64kB)"
                )
            }
        }
        return .rate(RateLimit(bitsPerSecond: bps, queueLimit: queue))
    }

    static func duration(_ text: String) throws(ControlCommandError) -> TimeSpan {
        guard let ns = Quantity.parseDurationNanoseconds(text), ns >= 0 else {
            throw ControlCommandError("`\(text)` is not a duration; expected e.g. 80ms, 1.5s or 0")
        }
        return TimeSpan(nanoseconds: ns)
    }

    static func ratio(_ text: String, below upper: Double, what: String) throws(ControlCommandError) -> Double {
        guard let value = Quantity.parseRatio(text), value >= 0, value < upper else {
            throw ControlCommandError("`\(text)` is not a \(what) ratio; expected 0% up to below 100%, e.g. 2% or 0.02")
        }
        return value
    }
}

/// A control command that cannot be run, with what would be valid.
public struct ControlCommandError: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}
