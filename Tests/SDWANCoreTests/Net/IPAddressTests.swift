import SDWANCore
import Testing

@Suite struct IPAddressTests {
    @Test(arguments: [
        ("192.0.2.1", "192.0.2.1"), ("0.0.0.0", "0.0.0.0"), ("2001:db8::1", "2001:db8::1"),
        ("::", "::"), ("::1", "::1"), ("2001:DB8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
        ("fe80::", "fe80::"), ("::ffff:192.0.2.1", "::ffff:c000:201"), ("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"),
    ])
    func addressesParseAndPrintCanonically(text: String, canonical: String) throws {
        let address = try #require(IPAddress(text))
        #expect(address.description == canonical)
        #expect(IPAddress(canonical) == address)
    }

    @Test(arguments: [
        "", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.-4", "1:2:3:4:5:6:7:8:9", "1::2::3", "12345::", "g::1",
        "1.2.3.4/", ":::",
    ])
    func malformedAddressesAreRefused(text: String) {
        #expect(IPAddress(text) == nil)
    }

    @Test func prefixesContainTheirAddressesOnly() throws {
        let lan = try #require(IPPrefix("10.1.0.0/16"))
        #expect(lan.contains(IPAddress("10.1.255.7")!))
        #expect(!lan.contains(IPAddress("10.2.0.1")!))
        #expect(!lan.contains(IPAddress("::1")!))
        #expect(IPPrefix("10.1.2.3/16")?.description == "10.1.0.0/16")
        let v6 = try #require(IPPrefix("2001:db8:1::/48"))
        #expect(v6.contains(IPAddress("2001:db8:1:ffff::9")!))
        #expect(!v6.contains(IPAddress("2001:db8:2::")!))
        let host = try #require(IPPrefix("2001:db8::1"))
        #expect(host.length == 128 && host.contains(IPAddress("2001:db8::1")!))
        #expect(!host.contains(IPAddress("2001:db8::2")!))
        #expect(IPPrefix("0.0.0.0/0")!.contains(IPAddress("203.0.113.9")!))
        #expect(IPPrefix("10.0.0.0/33") == nil)
        #expect(IPPrefix("10.0.0.0/x") == nil)
        #expect(IPPrefix("10.0.0.0/8")!.overlaps(IPPrefix("10.9.0.0/16")!))
        #expect(!IPPrefix("10.0.0.0/16")!.overlaps(IPPrefix("10.1.0.0/16")!))
    }
}

@Suite struct UDPEndpointTests {
    @Test(arguments: ["192.0.2.1:51820", "[2001:db8::1]:443", "127.0.0.1:0", "[::1]:65535"])
    func endpointsRoundTrip(text: String) throws {
        #expect(try #require(UDPEndpoint(text)).description == text)
    }

    @Test(arguments: ["192.0.2.1", "192.0.2.1:65536", "2001:db8::1:443", "[192.0.2.1]:1", "[::1]", "[::1]x1", ":1"])
    func malformedEndpointsAreRefused(text: String) {
        #expect(UDPEndpoint(text) == nil)
    }
}
