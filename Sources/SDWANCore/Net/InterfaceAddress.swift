/// An address on an interface: the address itself and its prefix length (`10.1.0.1/24`), unlike
/// `IPPrefix`, which clears the host bits.
public struct InterfaceAddress: Hashable, Sendable, CustomStringConvertible {
    public var address: IPAddress
    public var prefixLength: Int

    public init?(address: IPAddress, prefixLength: Int) {
        guard prefixLength >= 0, prefixLength <= address.bitWidth else { return nil }
        self.address = address
        self.prefixLength = prefixLength
    }

    /// Parses `10.1.0.1/24` or `fd00:1::1/64`; a bare address is a host route (/32, /128).
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let address = IPAddress(parts[0]) else { return nil }
        if parts.count == 2 {
            guard parts[1].allSatisfy({ $0.isASCII && $0.isNumber }), let length = Int(parts[1]) else { return nil }
            self.init(address: address, prefixLength: length)
        } else {
            self.init(address: address, prefixLength: address.bitWidth)
        }
    }

    /// The on-link network (host bits cleared).
    public var network: IPPrefix { IPPrefix(address: address, length: prefixLength)! }

    public var description: String { "\(address)/\(prefixLength)" }
}
