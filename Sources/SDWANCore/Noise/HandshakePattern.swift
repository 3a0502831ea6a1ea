/// Noise rev. 34 §7: handshake patterns as data, so one engine runs every pattern.

/// A token of a message pattern (§7.1) or a PSK token (§9.1).
public enum NoiseToken: Hashable, Sendable {
    case e
    case s
    case ee
    case es
    case se
    case ss
    case psk
}

/// A handshake pattern: optional pre-messages, then messages alternating from the initiator.
public struct HandshakePattern: Hashable, Sendable {
    /// The name as it appears in the protocol name, e.g. "IKpsk2".
    public var name: String
    /// Pre-message tokens (§7.1): public keys known in advance, hashed initiator's first.
    public var initiatorPreMessage: [NoiseToken]
    public var responderPreMessage: [NoiseToken]
    /// Message i is sent by the initiator when i is even, by the responder when odd.
    public var messages: [[NoiseToken]]

    public init(
        name: String,
        initiatorPreMessage: [NoiseToken] = [],
        responderPreMessage: [NoiseToken] = [],
        messages: [[NoiseToken]]
    ) {
        self.name = name
        self.initiatorPreMessage = initiatorPreMessage
        self.responderPreMessage = responderPreMessage
        self.messages = messages
    }

    /// §7.4: one-way patterns; after the handshake only the initiator sends.
    public var isOneWay: Bool { messages.count == 1 }

    /// Whether any message carries a `psk` token (§9: then `e` also calls MixKey).
    public var hasPSK: Bool { messages.contains { $0.contains(.psk) } }

    /// The pattern named `name`: a base pattern of §7.4, §7.5 or §7.6, with `pskN` modifiers
    /// (§9.2) joined by "+", e.g. "IKpsk2" or "NNpsk0+psk2". `nil` for an unknown name.
    public static func named(_ name: String) -> HandshakePattern? {
        let chars = Array(name)
        guard let start = (0..<chars.count).first(where: { String(chars[$0...].prefix(3)) == "psk" }) else {
            return base[name]
        }
        guard var pattern = base[String(chars[..<start])] else { return nil }
        for modifier in String(chars[start...]).split(separator: "+") {
            guard modifier.hasPrefix("psk"), let n = Int(modifier.dropFirst(3)), n <= pattern.messages.count else {
                return nil
            }
            // §9.2: psk0 puts a psk token at the start of the first message; pskN (N ≥ 1) at the end
            // of the Nth message.
            if n == 0 {
                pattern.messages[0].insert(NoiseToken.psk, at: 0)
            } else {
                pattern.messages[n - 1].append(NoiseToken.psk)
            }
        }
        pattern.name = name
        return pattern
    }

    /// The base patterns of §7.4 (one-way), §7.5 (interactive) and §7.6 (deferred).
    static let base: [String: HandshakePattern] = {
        var table: [String: HandshakePattern] = [:]
        func add(_ name: String, _ pre: ([NoiseToken], [NoiseToken]), _ messages: [[NoiseToken]]) {
            table[name] = HandshakePattern(
                name: name,
                initiatorPreMessage: pre.0,
                responderPreMessage: pre.1,
                messages: messages
            )
        }
        let none: ([NoiseToken], [NoiseToken]) = ([], [])
        let rs: ([NoiseToken], [NoiseToken]) = ([], [.s])
        let isr: ([NoiseToken], [NoiseToken]) = ([.s], [])
        let both: ([NoiseToken], [NoiseToken]) = ([.s], [.s])
        // §7.4 one-way.
        add("N", rs, [[.e, .es]])
        add("K", both, [[.e, .es, .ss]])
        add("X", rs, [[.e, .es, .s, .ss]])
        // §7.5 interactive, fundamental.
        add("NN", none, [[.e], [.e, .ee]])
        add("NK", rs, [[.e, .es], [.e, .ee]])
        add("NX", none, [[.e], [.e, .ee, .s, .es]])
        add("KN", isr, [[.e], [.e, .ee, .se]])
        add("KK", both, [[.e, .es, .ss], [.e, .ee, .se]])
        add("KX", isr, [[.e], [.e, .ee, .se, .s, .es]])
        add("XN", none, [[.e], [.e, .ee], [.s, .se]])
        add("XK", rs, [[.e, .es], [.e, .ee], [.s, .se]])
        add("XX", none, [[.e], [.e, .ee, .s, .es], [.s, .se]])
        add("IN", none, [[.e, .s], [.e, .ee, .se]])
        add("IK", rs, [[.e, .es, .s, .ss], [.e, .ee, .se]])
        add("IX", none, [[.e, .s], [.e, .ee, .se, .s, .es]])
        // §7.6 deferred.
        add("NK1", rs, [[.e], [.e, .ee, .es]])
        add("NX1", none, [[.e], [.e, .ee, .s], [.es]])
        add("X1N", none, [[.e], [.e, .ee], [.s], [.se]])
        add("X1K", rs, [[.e, .es], [.e, .ee], [.s], [.se]])
        add("XK1", rs, [[.e], [.e, .ee, .es], [.s, .se]])
        add("X1K1", rs, [[.e], [.e, .ee, .es], [.s], [.se]])
        add("X1X", none, [[.e], [.e, .ee, .s, .es], [.s], [.se]])
        add("XX1", none, [[.e], [.e, .ee, .s], [.es, .s, .se]])
        add("X1X1", none, [[.e], [.e, .ee, .s], [.es, .s], [.se]])
        add("K1N", isr, [[.e], [.e, .ee], [.se]])
        add("K1K", both, [[.e, .es], [.e, .ee], [.se]])
        add("KK1", both, [[.e], [.e, .ee, .se, .es]])
        add("K1K1", both, [[.e], [.e, .ee, .es], [.se]])
        add("K1X", isr, [[.e], [.e, .ee, .s, .es], [.se]])
        add("KX1", isr, [[.e], [.e, .ee, .se, .s], [.es]])
        add("K1X1", isr, [[.e], [.e, .ee, .s], [.se, .es]])
        add("I1N", none, [[.e, .s], [.e, .ee], [.se]])
        add("I1K", rs, [[.e, .es, .s], [.e, .ee], [.se]])
        add("IK1", rs, [[.e, .s], [.e, .ee, .se, .es]])
        add("I1K1", rs, [[.e, .s], [.e, .ee, .es], [.se]])
        add("I1X", none, [[.e, .s], [.e, .ee, .s, .es], [.se]])
        add("IX1", none, [[.e, .s], [.e, .ee, .se, .s], [.es]])
        add("I1X1", none, [[.e, .s], [.e, .ee, .s], [.se, .es]])
        return table
    }()
}
