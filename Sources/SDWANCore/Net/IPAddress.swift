/// An IPv4 or IPv6 address as plain integers, for classification and cryptokey routing without
/// allocation. Parsing and printing follow RFC 4291 §2.2 (IPv6 text) and the dotted quad.
public enum IPAddress: Hashable, Sendable, CustomStringConvertible {
    case v4(UInt32)
    case v6(high: UInt64, low: UInt64)

    /// Parses `192.0.2.1` or `2001:db8::1`; `nil` when the text is neither.
    public init?(_ text: some StringProtocol) {
        if text.contains(":") {
            guard let (high, low) = Self.parseV6(text) else { return nil }
            self = .v6(high: high, low: low)
        } else {
            guard let value = Self.parseV4(text) else { return nil }
            self = .v4(value)
        }
    }

    public var isV4: Bool {
        if case .v4 = self { return true }
        return false
    }

    /// Address length in bits: 32 or 128.
    public var bitWidth: Int { isV4 ? 32 : 128 }

    public var description: String {
        switch self {
        case .v4(let value):
            return (0..<4).map { String((value >> (24 - 8 * UInt32($0))) & 0xFF) }.joined(separator: ".")
        case .v6(let high, let low):
            let groups = (0..<8).map { i -> UInt16 in
                let word = i < 4 ? high : low
                return UInt16(truncatingIfNeeded: word >> (48 - 16 * UInt64(i % 4)))
            }
            // RFC 5952 §4.2: compress the longest run (≥ 2) of zero groups, the first if tied.
            var bestStart = -1
            var bestLength = 1
            var i = 0
            while i < 8 {
                if groups[i] == 0 {
                    var j = i
                    while j < 8 && groups[j] == 0 { j += 1 }
                    if j - i > bestLength {
                        bestStart = i
                        bestLength = j - i
                    }
                    i = j
                } else {
                    i += 1
                }
            }
            let hex = groups.map { String($0, radix: 16) }
            if bestStart < 0 { return hex.joined(separator: ":") }
            let head = hex[0..<bestStart].joined(separator: ":")
            let tail = hex[(bestStart + bestLength)...].joined(separator: ":")
            return head + "::" + tail
        }
    }

    static func parseV4(_ text: some StringProtocol) -> UInt32? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy({ $0.isASCII && $0.isNumber }),
                let octet = UInt32(part), octet <= 255
            else { return nil }
            value = value << 8 | octet
        }
        return value
    }

    static func parseV6(_ text: some StringProtocol) -> (UInt64, UInt64)? {
        var groups: [UInt16] = []
        var gapAt: Int?
        let pieces = text.split(separator: ":", omittingEmptySubsequences: false)
        guard pieces.count >= 3 || (pieces.count == 2 && text == "::") || text.count > 0 else { return nil }
        var index = 0
        while index < pieces.count {
            let piece = pieces[index]
            if piece.isEmpty {
                // "::" appears as one or two empty pieces (three for a lone "::").
                if gapAt == nil {
                    gapAt = groups.count
                } else if !(index == pieces.count - 1 || (index == 1 && pieces[0].isEmpty)) {
                    return nil
                }
                index += 1
                continue
            }
            if index == pieces.count - 1, piece.contains(".") {
                guard let v4 = parseV4(piece) else { return nil }
                groups.append(UInt16(v4 >> 16))
                groups.append(UInt16(v4 & 0xFFFF))
            } else {
                guard piece.count <= 4, let group = UInt16(piece, radix: 16) else { return nil }
                groups.append(group)
            }
            index += 1
        }
        if let gap = gapAt {
            guard groups.count < 8 else { return nil }
            groups.insert(contentsOf: [UInt16](repeating: 0, count: 8 - groups.count), at: gap)
        }
        guard groups.count == 8 else { return nil }
        var high: UInt64 = 0
        var low: UInt64 = 0
        for i in 0..<4 { high = high << 16 | UInt64(groups[i]) }
        for i in 4..<8 { low = low << 16 | UInt64(groups[i]) }
        return (high, low)
    }
}

/// An address prefix (`10.1.0.0/16`, `2001:db8::/32`).
public struct IPPrefix: Hashable, Sendable, CustomStringConvertible {
    public let address: IPAddress
    public let length: Int

    /// A prefix; host bits of `address` are cleared. `nil` when the length exceeds the family's width.
    public init?(address: IPAddress, length: Int) {
        guard length >= 0, length <= address.bitWidth else { return nil }
        self.length = length
        self.address = Self.masked(address, length)
    }

    /// Parses `a.b.c.d/n` or `x::/n`; a bare address is a host prefix (/32 or /128).
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let address = IPAddress(parts[0]) else { return nil }
        if parts.count == 2 {
            guard let length = Int(parts[1]), parts[1].allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
            self.init(address: address, length: length)
        } else {
            self.init(address: address, length: address.bitWidth)
        }
    }

    /// Whether `candidate` lies inside this prefix (always false across families).
    @inlinable
    public func contains(_ candidate: IPAddress) -> Bool {
        switch (address, candidate) {
        case (.v4(let net), .v4(let a)):
            return length == 0 || (a ^ net) >> (32 - UInt32(length)) == 0
        case (.v6(let nh, let nl), .v6(let ah, let al)):
            if length == 0 { return true }
            if length <= 64 { return (ah ^ nh) >> (64 - UInt64(length)) == 0 }
            return ah == nh && (length == 128 ? al == nl : (al ^ nl) >> (128 - UInt64(length)) == 0)
        default:
            return false
        }
    }

    /// Whether the two prefixes share any address.
    public func overlaps(_ other: IPPrefix) -> Bool {
        contains(other.address) || other.contains(address)
    }

    public var description: String { "\(address)/\(length)" }

    static func masked(_ address: IPAddress, _ length: Int) -> IPAddress {
        switch address {
        case .v4(let value):
            return .v4(length == 0 ? 0 : value & ~UInt32(0) << (32 - UInt32(length)))
        case .v6(let high, let low):
            if length == 0 { return .v6(high: 0, low: 0) }
            if length <= 64 { return .v6(high: high & ~UInt64(0) << (64 - UInt64(length)), low: 0) }
            return .v6(high: high, low: length == 128 ? low : low & ~UInt64(0) << (128 - UInt64(length)))
        }
    }
}
