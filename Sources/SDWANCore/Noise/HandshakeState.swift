/// Noise rev. 34 §5.3: the HandshakeState, a generic engine that runs any `HandshakePattern`.
///
/// Suite: 25519 (X25519, §12.1), ChaChaPoly (§12.3), BLAKE2b (§12.8). The tunnel's IKpsk2
/// handshake (Session/) and the test vectors go through this one engine. Ephemeral keys come from
/// the `RandomSource` passed to `writeMessage`, unless a test injects one with `setEphemeral`.
public struct NoiseHandshakeState: ~Copyable {
    /// The suffix of every protocol name this engine speaks.
    public static let suiteSuffix = "_25519_ChaChaPoly_BLAKE2b"

    public let pattern: HandshakePattern
    public let isInitiator: Bool
    private var symmetric: SymmetricState
    private var localStatic: SecretBytes
    private var localStaticPublic: PublicKey?
    private var localEphemeral: SecretBytes
    private var localEphemeralPublic: PublicKey?
    private var psk: SecretBytes
    private var hasPSK = false
    /// The peer's static key: known in advance (pre-message) or learnt from its `s` token.
    public private(set) var remoteStatic: PublicKey?
    /// The peer's ephemeral key, once its `e` token has been read.
    public private(set) var remoteEphemeral: PublicKey?
    /// The index of the next message of the pattern to write or read.
    public private(set) var messageIndex = 0
    private var failed = false

    /// The same with a static key held in a stored `SecretBytes` (borrowed, duplicated inside).
    public init(
        pattern: HandshakePattern,
        isInitiator: Bool,
        prologue: [UInt8],
        localStaticKey: borrowing SecretBytes,
        remoteStatic: PublicKey?
    ) {
        self.init(
            pattern: pattern,
            isInitiator: isInitiator,
            prologue: prologue,
            localStatic: Optional(localStaticKey.duplicate()),
            remoteStatic: remoteStatic
        )
    }

    /// Initialize(handshake_pattern, initiator, prologue, s, e = empty, rs, re = empty) of §5.3:
    /// InitializeSymmetric(protocol name), MixHash(prologue), then the pre-message public keys,
    /// the initiator's first.
    public init(
        pattern: HandshakePattern,
        isInitiator: Bool,
        prologue: [UInt8],
        localStatic: borrowing SecretBytes?,
        remoteStatic: PublicKey?
    ) {
        self.pattern = pattern
        self.isInitiator = isInitiator
        symmetric = SymmetricState(protocolName: "Noise_" + pattern.name + Self.suiteSuffix)
        switch localStatic {
        case .some(let key):
            precondition(key.count == X25519.keyLength)
            self.localStatic = key.duplicate()
            localStaticPublic = X25519.publicKey(of: key)
        case .none:
            self.localStatic = SecretBytes(zeroedCount: X25519.keyLength)
            localStaticPublic = nil
        }
        localEphemeral = SecretBytes(zeroedCount: X25519.keyLength)
        psk = SecretBytes(zeroedCount: PresharedKey.length)
        self.remoteStatic = remoteStatic
        symmetric.mixHash(prologue)
        for (tokens, ownedByInitiator) in [(pattern.initiatorPreMessage, true), (pattern.responderPreMessage, false)] {
            for token in tokens {
                // Only static keys appear in the pre-messages of the patterns we run (§7.1; the
                // ephemeral pre-message of fallback patterns is not supported).
                precondition(token == .s, "unsupported pre-message token \(token)")
                let key = ownedByInitiator == isInitiator ? localStaticPublic : remoteStatic
                guard let key else { preconditionFailure("pattern \(pattern.name) needs a pre-message static key") }
                symmetric.mixHash(key.bytes)
            }
        }
    }

    /// An explicit copy: a receiver reads an untrusted message into a copy, so a forged message
    /// cannot spend the real state (a failed ReadMessage leaves a HandshakeState unusable, §5.3).
    public func duplicate() -> NoiseHandshakeState {
        NoiseHandshakeState(copying: self)
    }

    private init(copying other: borrowing NoiseHandshakeState) {
        pattern = other.pattern
        isInitiator = other.isInitiator
        symmetric = other.symmetric.duplicate()
        localStatic = other.localStatic.duplicate()
        localStaticPublic = other.localStaticPublic
        localEphemeral = other.localEphemeral.duplicate()
        localEphemeralPublic = other.localEphemeralPublic
        psk = other.psk.duplicate()
        hasPSK = other.hasPSK
        remoteStatic = other.remoteStatic
        remoteEphemeral = other.remoteEphemeral
        messageIndex = other.messageIndex
        failed = other.failed
    }

    /// Sets the pre-shared key used by every `psk` token (§9). Needed before the first `psk`
    /// token is written or read; a responder may set it after learning who the initiator is.
    public mutating func setPresharedKey(_ key: borrowing SecretBytes) {
        precondition(key.count == PresharedKey.length)
        psk = key.duplicate()
        hasPSK = true
    }

    /// Fixes the ephemeral key instead of drawing one (test vectors only).
    public mutating func setEphemeral(_ key: borrowing SecretBytes) {
        precondition(key.count == X25519.keyLength)
        localEphemeral = key.duplicate()
        localEphemeralPublic = X25519.publicKey(of: key)
    }

    /// Whether every message of the pattern has been written or read.
    public var isComplete: Bool { messageIndex >= pattern.messages.count }

    /// h: the handshake hash, a transcript digest both sides share once complete (§11.2 channel binding).
    public var handshakeHash: [UInt8] { symmetric.handshakeHash }

    /// Whether it is this side's turn to write.
    public var isMyTurn: Bool { !isComplete && (messageIndex % 2 == 0) == isInitiator }

    /// Split() (§5.2) after the last message: the two transport keys.
    public func split() -> NoiseSplit {
        precondition(isComplete && !failed, "split before the handshake completed")
        return symmetric.split()
    }

    /// MixKey(DH(local, remote)) with this side's static (`localIsStatic`) or ephemeral key.
    private mutating func mixDH(localIsStatic: Bool, remote: PublicKey?) throws(NoiseError) {
        guard let remote, (localIsStatic ? localStaticPublic : localEphemeralPublic) != nil else {
            throw .protocolMisuse
        }
        let shared =
            localIsStatic ? X25519.sharedSecret(localStatic, remote) : X25519.sharedSecret(localEphemeral, remote)
        guard let shared else { throw .lowOrderPoint }
        shared.withUnsafeBytes { symmetric.mixKey($0) }
    }

    /// The DH a token calls for, from this side's point of view (§5.3): `es` is the initiator's
    /// ephemeral with the responder's static, so the responder uses its static with the remote
    /// ephemeral; `se` the other way round.
    private mutating func processDH(_ token: NoiseToken) throws(NoiseError) {
        switch token {
        case .ee: try mixDH(localIsStatic: false, remote: remoteEphemeral)
        case .ss: try mixDH(localIsStatic: true, remote: remoteStatic)
        case .es:
            if isInitiator {
                try mixDH(localIsStatic: false, remote: remoteStatic)
            } else {
                try mixDH(localIsStatic: true, remote: remoteEphemeral)
            }
        case .se:
            if isInitiator {
                try mixDH(localIsStatic: true, remote: remoteEphemeral)
            } else {
                try mixDH(localIsStatic: false, remote: remoteStatic)
            }
        case .e, .s, .psk: preconditionFailure("not a DH token")
        }
    }

    private mutating func mixPSK() throws(NoiseError) {
        guard hasPSK else { throw .protocolMisuse }
        psk.withUnsafeBytes { symmetric.mixKeyAndHash($0) }
    }

    /// WriteMessage(payload, message_buffer) of §5.3: the next message of the pattern.
    public mutating func writeMessage(
        payload: [UInt8],
        using random: inout some RandomSource
    ) throws(NoiseError) -> [UInt8] {
        guard isMyTurn, !failed else { throw .protocolMisuse }
        failed = true  // cleared on success: a failed handshake stays dead (§5.3)
        var out: [UInt8] = []
        for token in pattern.messages[messageIndex] {
            switch token {
            case .e:
                if localEphemeralPublic == nil {
                    let key = PrivateKey.generate(using: &random)
                    localEphemeral = key.secret.duplicate()
                    localEphemeralPublic = key.publicKey
                }
                let ephemeral = localEphemeralPublic!.bytes
                out += ephemeral
                symmetric.mixHash(ephemeral)
                // §9.2: with a PSK in the pattern, `e` also calls MixKey(e.public_key).
                if pattern.hasPSK { ephemeral.withUnsafeBytes { symmetric.mixKey($0) } }
            case .s:
                guard let mine = localStaticPublic else { throw .protocolMisuse }
                out += try symmetric.encryptAndHash(mine.bytes)
            case .ee, .es, .se, .ss:
                try processDH(token)
            case .psk:
                try mixPSK()
            }
        }
        out += try symmetric.encryptAndHash(payload)
        messageIndex += 1
        failed = false
        return out
    }

    /// ReadMessage(message, payload_buffer) of §5.3: reads the peer's next message and returns its
    /// payload. `acceptStatic` is asked about the peer's static key as soon as its `s` token is
    /// decrypted — before any later DH — so a responder refuses unknown peers at the cheapest point.
    public mutating func readMessage(
        _ message: [UInt8],
        acceptStatic: (PublicKey) -> Bool = { _ in true }
    ) throws(NoiseError) -> [UInt8] {
        guard !isComplete, !isMyTurn, !failed else { throw .protocolMisuse }
        failed = true
        var offset = 0
        func take(_ n: Int) throws(NoiseError) -> [UInt8] {
            guard message.count - offset >= n else { throw .truncated }
            defer { offset += n }
            return Array(message[offset..<(offset + n)])
        }
        for token in pattern.messages[messageIndex] {
            switch token {
            case .e:
                let bytes = try take(X25519.keyLength)
                remoteEphemeral = PublicKey(bytes: bytes)
                symmetric.mixHash(bytes)
                if pattern.hasPSK { bytes.withUnsafeBytes { symmetric.mixKey($0) } }
            case .s:
                let length = X25519.keyLength + (symmetric.cipher.hasKey ? ChaChaPoly.tagLength : 0)
                let key = try symmetric.decryptAndHash(try take(length))
                guard let remote = PublicKey(bytes: key) else { throw .truncated }
                guard acceptStatic(remote) else { throw .staticKeyRefused }
                remoteStatic = remote
            case .ee, .es, .se, .ss:
                try processDH(token)
            case .psk:
                try mixPSK()
            }
        }
        let payload = try symmetric.decryptAndHash(Array(message[offset...]))
        messageIndex += 1
        failed = false
        return payload
    }
}
