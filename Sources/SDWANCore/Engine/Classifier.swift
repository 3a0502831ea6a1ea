import NIOCore

/// One classification rule: every field that is set must match (fields are ANDed; a list field
/// matches when any of its entries does). Rules are tried in order; the first match wins.
public struct ClassRule: Hashable, Sendable {
    /// Index of the class this rule selects, in the engine's class table.
    public var classIndex: Int
    /// DSCP values (RFC 2474), as a 64-bit set: bit n set ⇔ DSCP n matches. `nil`: any.
    public var dscpMask: UInt64?
    /// IP protocol numbers (6 TCP, 17 UDP, …). Empty: any.
    public var protocols: [UInt8]
    /// Port ranges matched against either the source or the destination port. Empty: any.
    public var ports: [ClosedRange<UInt16>]
    /// Port ranges matched against the source / destination port only. Empty: any.
    public var sourcePorts: [ClosedRange<UInt16>]
    public var destinationPorts: [ClosedRange<UInt16>]
    /// Prefixes the source / destination address must lie in. Empty: any.
    public var sourcePrefixes: [IPPrefix]
    public var destinationPrefixes: [IPPrefix]

    public init(
        classIndex: Int,
        dscp: [UInt8] = [],
        protocols: [UInt8] = [],
        ports: [ClosedRange<UInt16>] = [],
        sourcePorts: [ClosedRange<UInt16>] = [],
        destinationPorts: [ClosedRange<UInt16>] = [],
        sourcePrefixes: [IPPrefix] = [],
        destinationPrefixes: [IPPrefix] = []
    ) {
        precondition(dscp.allSatisfy { $0 < 64 }, "DSCP is six bits")
        self.classIndex = classIndex
        self.dscpMask = dscp.isEmpty ? nil : dscp.reduce(UInt64(0)) { $0 | 1 << UInt64($1) }
        self.protocols = protocols
        self.ports = ports
        self.sourcePorts = sourcePorts
        self.destinationPorts = destinationPorts
        self.sourcePrefixes = sourcePrefixes
        self.destinationPrefixes = destinationPrefixes
    }

    @inlinable
    func matches(_ header: InnerPacketHeader) -> Bool {
        if let mask = dscpMask, mask & (1 << UInt64(header.dscp)) == 0 { return false }
        if !protocols.isEmpty && !protocols.contains(header.transportProtocol) { return false }
        if !ports.isEmpty {
            guard let s = header.sourcePort, let d = header.destinationPort,
                ports.contains(where: { $0.contains(s) || $0.contains(d) })
            else { return false }
        }
        if !sourcePorts.isEmpty {
            guard let s = header.sourcePort, sourcePorts.contains(where: { $0.contains(s) }) else { return false }
        }
        if !destinationPorts.isEmpty {
            guard let d = header.destinationPort, destinationPorts.contains(where: { $0.contains(d) }) else {
                return false
            }
        }
        if !sourcePrefixes.isEmpty && !sourcePrefixes.contains(where: { $0.contains(header.source) }) {
            return false
        }
        if !destinationPrefixes.isEmpty && !destinationPrefixes.contains(where: { $0.contains(header.destination) }) {
            return false
        }
        return true
    }
}

/// Maps inner IPv4/IPv6 packets to traffic classes by an ordered rule list. Packets that do not
/// parse go to the default class and are counted; so do packets no rule matches (not counted as
/// errors).
public struct Classifier: Sendable {
    public let rules: [ClassRule]
    public let defaultClassIndex: Int
    /// Inner packets that were not well-formed IPv4/IPv6 (sent in the default class).
    public private(set) var unparseable: UInt64 = 0

    /// For each DSCP value, the rules that can match it (bit i: rule i), when there are at most
    /// 64 rules: a packet is checked only against those, in rule order (most rules name DSCP
    /// values, so a packet skips most of the table). `nil`: more rules, every one is checked.
    private let dscpCandidates: [UInt64]?

    public init(rules: [ClassRule], defaultClassIndex: Int) {
        self.rules = rules
        self.defaultClassIndex = defaultClassIndex
        if rules.count <= 64 {
            dscpCandidates = (0..<64).map { dscp in
                var bits: UInt64 = 0
                for (i, rule) in rules.enumerated() where rule.dscpMask.map({ $0 & 1 << UInt64(dscp) != 0 }) ?? true {
                    bits |= 1 << UInt64(i)
                }
                return bits
            }
        } else {
            dscpCandidates = nil
        }
    }

    /// The class index for `packet`, and the parsed header when it parsed.
    public mutating func classify(_ packet: ByteBuffer) -> (classIndex: Int, header: InnerPacketHeader?) {
        guard let header = InnerPacketHeader.parse(packet) else {
            unparseable &+= 1
            return (defaultClassIndex, nil)
        }
        return (classify(header), header)
    }

    /// The class index for a parsed header.
    public func classify(_ header: InnerPacketHeader) -> Int {
        // Through one unsafe buffer: `for rule in rules` copied every rule (six arrays retained and
        // released) per packet.
        rules.withUnsafeBufferPointer { rules in
            if let dscpCandidates {
                var bits = dscpCandidates[Int(header.dscp & 63)]
                while bits != 0 {
                    let i = bits.trailingZeroBitCount
                    if rules[i].matches(header) { return rules[i].classIndex }
                    bits &= bits &- 1
                }
                return defaultClassIndex
            }
            for i in rules.indices where rules[i].matches(header) { return rules[i].classIndex }
            return defaultClassIndex
        }
    }
}

/// RFC 4594 / RFC 2474 code points used by the default class table.
public enum DSCP {
    public static let defaultForwarding: UInt8 = 0
    public static let cs1: UInt8 = 8
    public static let af11: UInt8 = 10
    public static let af12: UInt8 = 12
    public static let af13: UInt8 = 14
    public static let af21: UInt8 = 18
    public static let af22: UInt8 = 20
    public static let af23: UInt8 = 22
    public static let af41: UInt8 = 34
    public static let af42: UInt8 = 36
    public static let af43: UInt8 = 38
    public static let ef: UInt8 = 46
}
