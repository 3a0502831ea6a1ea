import SDWANCore
import Testing

/// Known-answer tests for the typed libsodium API, from the RFCs' own vectors.
@Suite struct CoreCryptoTests {
    // RFC 7748 §6.1: Alice's and Bob's keys and their shared secret.
    static let alicePrivate = [UInt8](hex: "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
    static let alicePublic = [UInt8](hex: "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
    static let bobPublic = [UInt8](hex: "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")
    static let shared = [UInt8](hex: "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742")

    @Test func x25519MatchesRFC7748Section6_1() throws {
        let alice = SecretBytes(copying: Self.alicePrivate)
        #expect(X25519.publicKey(of: alice).bytes == Self.alicePublic)
        guard let secret = X25519.sharedSecret(alice, PublicKey(bytes: Self.bobPublic)!) else {
            Issue.record("X25519 refused RFC 7748's Bob")
            return
        }
        let bytes = secret.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> [UInt8] in [UInt8](raw) }
        #expect(bytes == Self.shared)
    }

    @Test func x25519RefusesLowOrderPoint() {
        let alice = SecretBytes(copying: Self.alicePrivate)
        let zeroPoint = PublicKey(bytes: [UInt8](repeating: 0, count: 32))!
        let refused = X25519.sharedSecret(alice, zeroPoint) == nil
        #expect(refused)
    }

    // RFC 8439 §2.8.2: the AEAD test vector.
    @Test func chachaPolySealMatchesRFC8439Section2_8_2() {
        let key = SecretBytes(count: 32) { buf in for i in 0..<32 { buf[i] = UInt8(0x80 + i) } }
        let nonce = [UInt8](hex: "070000004041424344454647")
        let aad = [UInt8](hex: "50515253c0c1c2c3c4c5c6c7")
        let plaintext = Array(
            "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it."
                .utf8
        )
        var text = plaintext
        var tag = [UInt8](repeating: 0, count: 16)
        text.withUnsafeMutableBytes { t in
            tag.withUnsafeMutableBytes { g in
                aad.withUnsafeBytes { a in
                    nonce.withUnsafeBytes { ChaChaPoly.seal(t, tag: g, associatedData: a, nonce: $0, key: key) }
                }
            }
        }
        #expect(text.prefix(16) == [UInt8](hex: "d31a8d34648e60db7b86afbc53ef7ec2")[...])
        #expect(tag == [UInt8](hex: "1ae10b594f09e26a7e902ecbd0600691"))

        // A flipped AAD bit fails (libsodium then zeroes the output, so open a copy); the
        // original opens to the plaintext.
        var badAAD = aad
        badAAD[0] ^= 1
        var copy = text
        let refused = copy.withUnsafeMutableBytes { t in
            tag.withUnsafeBytes { g in
                badAAD.withUnsafeBytes { a in
                    nonce.withUnsafeBytes { ChaChaPoly.open(t, tag: g, associatedData: a, nonce: $0, key: key) }
                }
            }
        }
        #expect(!refused)
        #expect(copy != plaintext)
        let opened = text.withUnsafeMutableBytes { t in
            tag.withUnsafeBytes { g in
                aad.withUnsafeBytes { a in
                    nonce.withUnsafeBytes { ChaChaPoly.open(t, tag: g, associatedData: a, nonce: $0, key: key) }
                }
            }
        }
        #expect(opened)
        #expect(text == plaintext)
    }

    // RFC 7693 Appendix A: BLAKE2b-512("abc").
    @Test func blake2bMatchesRFC7693AppendixA() {
        var out = [UInt8](repeating: 0, count: 64)
        BLAKE2b.hash(Array("abc".utf8), into: &out)
        #expect(
            out.hex
                == "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1"
                + "7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923"
        )
    }

    @Test func secretBytesCompareInConstantTimeAndDuplicateExplicitly() {
        var random = SeededRandomSource(seed: 1)
        let a = SecretBytes(randomCount: 32, using: &random)
        let b = a.duplicate()
        let same = a.constantTimeEquals(b)
        #expect(same)
        var c = b.duplicate()
        c.withUnsafeMutableBytes { $0[31] ^= 0x80 }
        let differ = !a.constantTimeEquals(c)
        #expect(differ)
    }
}
