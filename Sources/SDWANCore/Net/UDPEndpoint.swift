/// A UDP address and port: where a link's datagrams go or came from. The I/O ring converts it to
/// and from socket addresses; the core and the simulator use it as an opaque, hashable key.
public struct UDPEndpoint: Hashable, Sendable, CustomStringConvertible {
    public var address: IPAddress
    public var port: UInt16

    public init(address: IPAddress, port: UInt16) {
        self.address = address
        self.port = port
    }

    /// Parses `192.0.2.1:51820` or `[2001:db8::1]:51820`.
    public init?(_ text: some StringProtocol) {
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            let host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":"), let port = UInt16(rest.dropFirst()), let address = IPAddress(host),
                !address.isV4
            else { return nil }
            self.init(address: address, port: port)
        } else {
            guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]),
                let address = IPAddress(text[..<colon]), address.isV4
            else { return nil }
            self.init(address: address, port: port)
        }
    }

    public var description: String { address.isV4 ? "\(address):\(port)" : "[\(address)]:\(port)" }
}
