/// Longest-prefix match over a set of prefixes, each naming a value (the hub's branch routes).
///
/// Small tables are a list sorted longest first, walked in order. From `hashedFrom` entries on,
/// a lookup tries one hash table per prefix length in use, longest first — a few probes however
/// many prefixes there are — where the walk cost a compare per branch on every routed packet
/// (`sdwan-bench hub`: 1 000 branches made each datagram to the data centre walk 1 000 prefixes).
/// Both give the same answer: the longest prefix holding the address; among equal prefixes, the
/// one added first.
public struct PrefixTable<Value> {
    /// Entries sorted by length, longest first, ties in the order added.
    private let sorted: [(prefix: IPPrefix, value: Value)]
    /// Per address family (0 IPv4, 1 IPv6): the lengths in use, longest first, each with its
    /// prefixes. Empty below `hashedFrom` entries.
    private let byLength: [[(length: Int, values: [IPPrefix: Value])]]

    /// Tables with at least this many entries are hashed.
    public static var hashedFrom: Int { 16 }

    /// `entries` in priority order among equal prefixes (the first one added wins).
    public init(_ entries: [(prefix: IPPrefix, value: Value)]) {
        // A stable sort keeps the order added among equal lengths.
        sorted = entries.enumerated().sorted {
            $0.element.prefix.length != $1.element.prefix.length
                ? $0.element.prefix.length > $1.element.prefix.length : $0.offset < $1.offset
        }.map(\.element)
        guard entries.count >= Self.hashedFrom else {
            byLength = [[], []]
            return
        }
        var families: [[(length: Int, values: [IPPrefix: Value])]] = [[], []]
        for entry in sorted {
            let f = entry.prefix.address.isV4 ? 0 : 1
            if families[f].last?.length != entry.prefix.length {
                families[f].append((entry.prefix.length, [:]))
            }
            let last = families[f].count - 1
            if families[f][last].values[entry.prefix] == nil { families[f][last].values[entry.prefix] = entry.value }
        }
        byLength = families
    }

    public var isEmpty: Bool { sorted.isEmpty }

    /// The value of the longest prefix holding `address`, or `nil`.
    /// Inlined: the hub looks up every packet, and most hubs have a short table.
    @inline(__always)
    public func lookup(_ address: IPAddress) -> Value? {
        guard sorted.count >= Self.hashedFrom else {
            for entry in sorted where entry.prefix.contains(address) { return entry.value }
            return nil
        }
        return hashedLookup(address)
    }

    private func hashedLookup(_ address: IPAddress) -> Value? {
        for level in byLength[address.isV4 ? 0 : 1] {
            if let value = level.values[IPPrefix(address: address, length: level.length)!] { return value }
        }
        return nil
    }
}
