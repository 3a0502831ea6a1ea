/// The hash functions of Noise rev. 34 §4.3 for BLAKE2b: HASH, HMAC-HASH and HKDF.
///
/// HMAC is RFC 2104 over BLAKE2b-512 with the 128-byte block (BLOCKLEN), exactly as Noise §4.3
/// defines it — not BLAKE2b's own keyed mode, which would give different outputs and break
/// interoperability with every other Noise implementation (and the test vectors).
public enum NoiseHash {
    /// Noise §4.3: HASHLEN and BLOCKLEN for BLAKE2b.
    public static let hashLength = BLAKE2b.hashLength
    public static let blockLength = BLAKE2b.blockLength

    /// HASH(parts[0] ‖ parts[1] ‖ …) with 64 bytes of output.
    public static func hash(_ parts: [UnsafeRawBufferPointer], into out: UnsafeMutableRawBufferPointer) {
        precondition(out.count == hashLength)
        BLAKE2b.hash(parts: parts, into: out)
    }

    /// HMAC-HASH(key, data) per RFC 2104 §2: H((K ⊕ opad) ‖ H((K ⊕ ipad) ‖ data)), with K padded by
    /// zeros to BLOCKLEN. Noise only ever uses HASHLEN-byte keys, so a key is never hashed first.
    public static func hmac(
        key: UnsafeRawBufferPointer,
        data: [UnsafeRawBufferPointer],
        into out: UnsafeMutableRawBufferPointer
    ) {
        precondition(key.count <= blockLength && out.count == hashLength)
        var block = [UInt8](repeating: 0, count: blockLength)
        var inner = [UInt8](repeating: 0, count: hashLength)
        defer {
            SecretBytes.wipe(&block)
            SecretBytes.wipe(&inner)
        }
        for i in 0..<key.count { block[i] = key[i] }
        for i in 0..<blockLength { block[i] ^= 0x36 }
        block.withUnsafeBytes { ipad in
            inner.withUnsafeMutableBytes { hash([ipad] + data, into: $0) }
        }
        // Turn ipad into opad without re-reading the key: 0x36 ⊕ 0x5c = 0x6a.
        for i in 0..<blockLength { block[i] ^= 0x36 ^ 0x5C }
        block.withUnsafeBytes { opad in
            inner.withUnsafeBytes { hash([opad, $0], into: out) }
        }
    }

    /// Noise §4.3 HKDF(chaining_key, input_key_material, num_outputs) with num_outputs = outputs.count
    /// (2 or 3), each HASHLEN bytes:
    /// temp_key = HMAC(ck, ikm); output1 = HMAC(temp_key, 0x01);
    /// output2 = HMAC(temp_key, output1 ‖ 0x02); output3 = HMAC(temp_key, output2 ‖ 0x03).
    /// The outputs may alias nothing the inputs point at.
    public static func hkdf(
        chainingKey: UnsafeRawBufferPointer,
        inputKeyMaterial: UnsafeRawBufferPointer,
        outputs: [UnsafeMutableRawBufferPointer]
    ) {
        precondition(outputs.count == 2 || outputs.count == 3)
        var tempKey = [UInt8](repeating: 0, count: hashLength)
        defer { SecretBytes.wipe(&tempKey) }
        tempKey.withUnsafeMutableBytes { hmac(key: chainingKey, data: [inputKeyMaterial], into: $0) }
        tempKey.withUnsafeBytes { key in
            var counter: UInt8 = 1
            withUnsafeBytes(of: &counter) { hmac(key: key, data: [$0], into: outputs[0]) }
            for i in 1..<outputs.count {
                counter = UInt8(i + 1)
                withUnsafeBytes(of: &counter) {
                    hmac(key: key, data: [UnsafeRawBufferPointer(outputs[i - 1]), $0], into: outputs[i])
                }
            }
        }
    }
}
