import SDWANCore

extension SecretReference {
    /// The private key, from its file (refused when group or others can read it) or inline text.
    public func privateKey(configFile: String, field: String) throws(ConfigError) -> PrivateKey {
        switch self {
        case .file(let path):
            do { return try KeyFile.privateKey(path: path) } catch { throw Self.error(error, configFile, field) }
        case .inline(let text):
            do { return try PrivateKey(base64: text) } catch {
                throw ConfigError(file: configFile, line: nil, column: nil, field: field, problem: "\(error)")
            }
        }
    }

    /// The pre-shared key, from its file or inline text.
    public func presharedKey(configFile: String, field: String) throws(ConfigError) -> PresharedKey {
        switch self {
        case .file(let path):
            do { return try KeyFile.presharedKey(path: path) } catch { throw Self.error(error, configFile, field) }
        case .inline(let text):
            do { return try PresharedKey(base64: text) } catch {
                throw ConfigError(file: configFile, line: nil, column: nil, field: field, problem: "\(error)")
            }
        }
    }

    static func error(_ error: KeyFileError, _ file: String, _ field: String) -> ConfigError {
        ConfigError(
            file: file,
            line: nil,
            column: nil,
            field: field,
            problem: error.description,
            expected: "a key file of mode 600 written by `sdwan genkey` / `sdwan genpsk`"
        )
    }
}

extension NodeConfig {
    /// Reads every key the config names (what `check` and start-up do before opening sockets), so a
    /// missing or group-readable key file fails here with the field that names it.
    public func verifySecrets() throws(ConfigError) {
        switch self {
        case .edge(let c):
            _ = try c.privateKey.privateKey(configFile: c.file, field: "identity.private_key_file")
            for (i, hub) in c.hubs.enumerated() {
                _ = try hub.presharedKey?.presharedKey(configFile: c.file, field: c.hubPSKField(i))
            }
        case .hub(let c):
            _ = try c.privateKey.privateKey(configFile: c.file, field: "identity.private_key_file")
            for (i, b) in c.branches.enumerated() {
                _ = try b.presharedKey?.presharedKey(configFile: c.file, field: "branches[\(i)].psk_file")
            }
        }
    }
}
