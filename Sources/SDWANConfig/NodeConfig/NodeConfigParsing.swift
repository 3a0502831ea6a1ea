import SDWANCore

#if canImport(Glibc)
import Glibc
#endif

/// Field parsers shared by the edge and hub decoders.
enum NodeConfigParsing {
    static let endpointSyntax = "an address and port: 192.0.2.1:51820 or [2001:db8::1]:51820"

    static func endpoint(_ value: ConfigValue) throws(ConfigError) -> UDPEndpoint {
        let text = try value.scalarText(expected: endpointSyntax)
        guard let endpoint = UDPEndpoint(text) else {
            throw value.error("`\(text)` is not an address and port", expected: endpointSyntax)
        }
        return endpoint
    }

    /// An address alone (port 0) or an address and port.
    static func localAddress(_ value: ConfigValue) throws(ConfigError) -> UDPEndpoint {
        let text = try value.scalarText(expected: "an address (192.0.2.10) or an address and port")
        if let endpoint = UDPEndpoint(text) { return endpoint }
        let bare = text.hasPrefix("[") && text.hasSuffix("]") ? String(text.dropFirst().dropLast()) : text
        guard let address = IPAddress(bare) else {
            throw value.error(
                "`\(text)` is not an address",
                expected: "an address (192.0.2.10, 2001:db8::10) or an address and port"
            )
        }
        return UDPEndpoint(address: address, port: 0)
    }

    static func address(_ value: ConfigValue) throws(ConfigError) -> IPAddress {
        let text = try value.scalarText(expected: "an IP address")
        guard let address = IPAddress(text) else {
            throw value.error("`\(text)` is not an IP address", expected: "an IPv4 or IPv6 address")
        }
        return address
    }

    static func prefix(_ value: ConfigValue) throws(ConfigError) -> IPPrefix {
        let text = try value.scalarText(expected: "a prefix such as 10.1.0.0/24")
        // Host bits set (10.1.0.1/24) are a typo more often than not: refuse rather than mask.
        let written = IPAddress(text.split(separator: "/").first ?? "")
        guard let prefix = IPPrefix(text), written == prefix.address else {
            throw value.error(
                "`\(text)` is not a prefix",
                expected: "an address and length with no host bits set: 10.1.0.0/24, 2001:db8:1::/48"
            )
        }
        return prefix
    }

    static func publicKey(_ value: ConfigValue) throws(ConfigError) -> PublicKey {
        let text = try value.scalarText(expected: "a base64 public key (`sdwan pubkey`)")
        do {
            return try PublicKey(base64: text)
        } catch {
            throw value.error("not a public key: \(error)", expected: "44 characters of base64 from `sdwan pubkey`")
        }
    }

    /// `<name>_file: PATH` or `<name>: BASE64` in `m` (at most one of them).
    static func secret(_ m: ConfigMapping, _ name: String, required: Bool) throws(ConfigError) -> SecretReference? {
        let fileKey = "\(name)_file"
        if let inline = m[name], m[fileKey] != nil {
            throw inline.error("both `\(name)` and `\(fileKey)` are set", expected: "one of them")
        }
        if let v = m[fileKey] { return .file(path: try v.string()) }
        if let v = m[name] { return .inline(base64: try v.string()) }
        if required {
            _ = try m.required(fileKey, expected: "the path of a key file (mode 600) written by `sdwan genkey`")
        }
        return nil
    }

    /// Refuses a config file that holds inline secrets when group or others can read it.
    static func checkPrivate(path: String, holdsSecrets: Bool) throws(ConfigError) {
        guard holdsSecrets else { return }
        var info = stat()
        guard stat(path, &info) == 0 else { return }
        if info.st_mode & 0o077 != 0 {
            throw ConfigError(
                file: path,
                line: nil,
                column: nil,
                field: "",
                problem:
                    "the config holds secrets (inline keys) and group or others can read it (mode \(String(info.st_mode & 0o777, radix: 8)))",
                expected: "chmod 600 \(path), or move the keys to key files (`private_key_file`, `psk_file`)"
            )
        }
    }

    /// Whether an address is a loopback address (127/8, ::1).
    static func isLoopback(_ address: IPAddress) -> Bool {
        switch address {
        case .v4(let raw): raw >> 24 == 127
        case .v6(let high, let low): high == 0 && low == 1
        }
    }

    static func isWildcard(_ address: IPAddress) -> Bool {
        switch address {
        case .v4(let raw): raw == 0
        case .v6(let high, let low): high == 0 && low == 0
        }
    }

    /// The `status:` block's address; loopback by default.
    static func status(_ value: ConfigValue?, default fallback: UDPEndpoint) throws(ConfigError) -> UDPEndpoint {
        guard let value else { return fallback }
        let m = try value.mapping(allowing: ["listen"])
        guard let v = m["listen"] else { return fallback }
        return try endpoint(v)
    }
}
