import SDWANCore
import Testing

@Suite struct KeyTests {
    @Test func privateKeyRoundTripsThroughBase64AndDerivesRFC7748PublicKey() throws {
        // RFC 7748 §6.1 Alice, as base64 (what `wg pubkey` would print for this private key).
        let alice = try PrivateKey(base64: "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=")
        #expect(alice.publicKey.bytes == CoreCryptoTests.alicePublic)
        #expect(alice.publicKey.base64 == "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=")
        #expect(alice.base64ForKeyFile() == "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=")
    }

    @Test func generatedKeysAreClampedAndDistinct() {
        var random = SystemRandomSource()
        let a = PrivateKey.generate(using: &random)
        let b = PrivateKey.generate(using: &random)
        #expect(a.publicKey != b.publicKey)
        a.secret.withUnsafeBytes { bytes in
            #expect(bytes[0] & 7 == 0)
            #expect(bytes[31] & 0x80 == 0)
            #expect(bytes[31] & 0x40 == 0x40)
        }
    }

    @Test(arguments: [
        ("", KeyParseError.wrongLength(0)),
        ("not base64 at all!", .notBase64),
        ("AAAA", .wrongLength(3)),
        ("dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LA==", .wrongLength(31)),
    ])
    func malformedKeyTextIsRefusedWithReason(text: String, expected: KeyParseError) {
        #expect(throws: expected) { try PrivateKey(base64: text) }
        #expect(throws: expected) { try PublicKey(base64: text) }
        #expect(throws: expected) { try PresharedKey(base64: text) }
    }

    @Test func keyTextToleratesTrailingNewline() throws {
        let key = try PublicKey(base64: "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=\n")
        #expect(key.bytes == CoreCryptoTests.alicePublic)
    }
}
