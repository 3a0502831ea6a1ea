import NIOCore

/// A link as the edge announces it to the hub after each handshake, in a CONTROL frame
/// (docs/wire-format.md §5, type 0x06, control type 0x01), so the hub applies the class policies
/// downstream with the branch's own view of tiers, cost, metering and shaped rates.
public struct LinkAnnouncement: Hashable, Sendable {
    public var linkID: UInt8
    public var name: String
    public var tier: UInt8
    public var cost: UInt16
    public var metered: Bool
    public var mtu: UInt16
    /// Shaped rates in kbit/s; 0 = not shaped.
    public var upKbps: UInt32
    public var downKbps: UInt32

    public init(
        linkID: UInt8,
        name: String,
        tier: UInt8,
        cost: UInt16,
        metered: Bool,
        mtu: UInt16,
        upKbps: UInt32,
        downKbps: UInt32
    ) {
        self.linkID = linkID
        self.name = name
        self.tier = tier
        self.cost = cost
        self.metered = metered
        self.mtu = mtu
        self.upKbps = upKbps
        self.downKbps = downKbps
    }

    /// Longest link name on the wire, in UTF-8 bytes.
    public static let maximumNameLength = 32
}

/// CONTROL frame bodies. Byte table (docs/wire-format.md §5):
///
/// ```
/// control type (1) = 0x01 link announcement
/// count (1), then per link:
///   link id (1) tier (1) cost (2) flags (1: bit 0 metered) mtu (2) up kbit/s (4) down kbit/s (4)
///   name length (1, ≤ 32) name (UTF-8)
/// ```
public enum ControlMessage: Hashable, Sendable {
    case linkAnnouncement([LinkAnnouncement])

    static let linkAnnouncementType: UInt8 = 0x01

    public func write(to buffer: inout ByteBuffer) {
        switch self {
        case .linkAnnouncement(let links):
            precondition(links.count <= 255)
            buffer.writeInteger(Self.linkAnnouncementType)
            buffer.writeInteger(UInt8(links.count))
            for link in links {
                let name = Array(link.name.utf8.prefix(LinkAnnouncement.maximumNameLength))
                buffer.writeInteger(link.linkID)
                buffer.writeInteger(link.tier)
                buffer.writeInteger(link.cost)
                buffer.writeInteger(UInt8(link.metered ? 1 : 0))
                buffer.writeInteger(link.mtu)
                buffer.writeInteger(link.upKbps)
                buffer.writeInteger(link.downKbps)
                buffer.writeInteger(UInt8(name.count))
                buffer.writeBytes(name)
            }
        }
    }

    /// Parses a CONTROL frame body; malformed bodies are refused with a reason, never trapped on.
    public static func read(from body: inout ByteBuffer) -> Result<ControlMessage, ContainerError> {
        guard let type = body.readInteger(as: UInt8.self) else { return .failure(.truncated) }
        guard type == linkAnnouncementType else { return .failure(.unknownFrameType) }
        guard let count = body.readInteger(as: UInt8.self) else { return .failure(.truncated) }
        var links: [LinkAnnouncement] = []
        for _ in 0..<count {
            guard let id = body.readInteger(as: UInt8.self), let tier = body.readInteger(as: UInt8.self),
                let cost = body.readInteger(as: UInt16.self), let flags = body.readInteger(as: UInt8.self),
                let mtu = body.readInteger(as: UInt16.self), let up = body.readInteger(as: UInt32.self),
                let down = body.readInteger(as: UInt32.self), let nameLength = body.readInteger(as: UInt8.self),
                let nameBytes = body.readBytes(length: Int(nameLength))
            else { return .failure(.truncated) }
            guard flags & ~1 == 0, nameLength <= LinkAnnouncement.maximumNameLength else {
                return .failure(.reservedBitsSet)
            }
            links.append(
                LinkAnnouncement(
                    linkID: id,
                    name: String(decoding: nameBytes, as: UTF8.self),
                    tier: tier,
                    cost: cost,
                    metered: flags & 1 == 1,
                    mtu: mtu,
                    upKbps: up,
                    downKbps: down
                )
            )
        }
        return .success(.linkAnnouncement(links))
    }
}
