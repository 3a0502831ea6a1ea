import SDWANCore
import Testing

/// Noise §4.3: HMAC is RFC 2104 over BLAKE2b-512 with 128-byte blocks. Expected values come from
/// Python's `hmac.new(key, msg, hashlib.blake2b)` (an independent RFC 2104 implementation whose
/// BLAKE2b block size is 128), not from this code.
@Suite struct NoiseHashTests {
    @Test func hmacBlake2bIsRFC2104WithBlock128() {
        let key = [UInt8](0..<64)
        let message = Array("sdwan hmac-blake2b known answer".utf8)
        var out = [UInt8](repeating: 0, count: 64)
        key.withUnsafeBytes { k in
            message.withUnsafeBytes { m in out.withUnsafeMutableBytes { NoiseHash.hmac(key: k, data: [m], into: $0) } }
        }
        #expect(
            out.hex
                == "73b2def28c1b1b60b9d9c0a73236addce374cb23d1d5aa1aa60b2b41be85eafa"
                + "64062baface315fba22d8140ba3c320ca4485dd6a8aab25f8e5b412adb204704"
        )
        // BLAKE2b's keyed mode is a different function; HMAC must not collapse into it.
        var keyed = [UInt8](repeating: 0, count: 64)
        key.withUnsafeBytes { k in
            message.withUnsafeBytes { m in keyed.withUnsafeMutableBytes { BLAKE2b.keyedHash(key: k, m, into: $0) } }
        }
        #expect(keyed != out)
    }

    @Test func hkdfThreeOutputsChainAsSection4_3() {
        let ck = [UInt8](repeating: 7, count: 64)
        let ikm = Array("input key material".utf8)
        var o1 = [UInt8](repeating: 0, count: 64)
        var o2 = o1
        var o3 = o1
        ck.withUnsafeBytes { c in
            ikm.withUnsafeBytes { i in
                o1.withUnsafeMutableBytes { p1 in
                    o2.withUnsafeMutableBytes { p2 in
                        o3.withUnsafeMutableBytes { p3 in
                            NoiseHash.hkdf(chainingKey: c, inputKeyMaterial: i, outputs: [p1, p2, p3])
                        }
                    }
                }
            }
        }
        let outputs = [o1, o2, o3]
        #expect(
            outputs[0].hex
                == "19e49661c78a8953aa350851db1815439c3d0ad675ae58f97895ff36bd89744d"
                + "73efefb3ab966230c4e9f15d9f6e40baf7f0fd9aede182d0b40e415b55d6dcc9"
        )
        #expect(
            outputs[1].hex
                == "0700f01ed563d1bf493876b74369e99fa0857f5aa63b78ae911bc1a29dfb645f"
                + "ffee17429f656b7f1d494d2a6bf03ed2c58a3e2af02463ce2ab682daadd50919"
        )
        #expect(
            outputs[2].hex
                == "552cb73e1bd893d7ee30d9439678ff277ae3ed7bd33c2f5e827b431900948f28"
                + "545d0fb3aabe49b946f6c8962b5d013b425f174747a27fd283be18ad48ac8ec4"
        )
    }
}
