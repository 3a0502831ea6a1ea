import NIOCore

/// The simulator's null cipher (docs/simulator.md, "Null cipher"): transport packets keep their
/// exact layout and size — header, payload, 16-byte tag — but the payload is left in the clear
/// and the tag is the sending key's 64-bit id and the packet's counter, checked on open against
/// the receiving key's id. A packet sealed under other keys fails to open, as with the AEAD, so
/// sessions, rekeys and restarts behave identically; only the cost of ChaCha20-Poly1305 is gone.
///
/// Only code that imports the core with `@_spi(Simulation)` can turn it on, and only for the
/// sessions created inside `withNullCipher`'s body (a task-local read once when a
/// `TransportSession` is created; the live nodes never set it). Never use it on a network.
@_spi(Simulation)
public enum SimulationCipher {
    @TaskLocal static var nullCipherEnabled = false

    /// Runs `body` with every transport session created inside it using the null cipher.
    public static func withNullCipher<R>(_ body: () throws -> R) rethrows -> R {
        try $nullCipherEnabled.withValue(true, operation: body)
    }
}

extension SimulationCipher {
    /// Writes the null tag: key id ‖ counter (the layout of the real tag's 16 bytes).
    static func seal(_ buffer: inout ByteBuffer, keyID: UInt64, counter: UInt64) {
        buffer.writeFields(length: WireFormat.tagLength) { w in
            w.put(keyID)
            w.put(counter)
        }
    }

    /// Checks and trims the null tag; the readable bytes must hold header, timestamp and tag.
    static func open(_ buffer: inout ByteBuffer, keyID: UInt64, counter: UInt64) -> Result<Void, ContainerError> {
        let minimum = WireFormat.transportHeaderLength + WireFormat.timestampLength + WireFormat.tagLength
        guard buffer.readableBytes >= minimum else { return .failure(.truncated) }
        let tagAt = buffer.writerIndex - WireFormat.tagLength
        let tag = buffer.readableBytes - WireFormat.tagLength
        let matches = buffer.withFieldReader { r in
            r.get(at: tag, as: UInt64.self) == keyID && r.get(at: tag + 8, as: UInt64.self) == counter
        }
        guard matches else { return .failure(.authenticationFailed) }
        buffer.moveWriterIndex(to: tagAt)
        return .success(())
    }
}
