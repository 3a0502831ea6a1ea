import Foundation
import SDWANConfig
import SDWANCore
import Testing

@Suite struct KeyFileTests {
    static func write(_ text: String, mode: Int) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sdwan-key-\(UUID().uuidString)").path
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        return path
    }

    @Test func privateKeyFileWithMode600Loads() throws {
        let path = try Self.write("dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=\n", mode: 0o600)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let key = try KeyFile.privateKey(path: path)
        #expect(key.publicKey.base64 == "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=")
    }

    @Test(arguments: [0o644, 0o640, 0o604, 0o660])
    func keyFileReadableByGroupOrOthersIsRefusedWithFix(mode: Int) throws {
        let path = try Self.write("dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=\n", mode: mode)
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            _ = try KeyFile.privateKey(path: path)
            Issue.record("mode \(String(mode, radix: 8)) was accepted")
        } catch {
            #expect(error.description.contains(path))
            #expect(error.description.contains("chmod 600 \(path)"))
        }
        #expect(throws: KeyFileError.readableByOthers(path: path, mode: UInt32(0o100000 | mode))) {
            try KeyFile.presharedKey(path: path)
        }
    }

    @Test func missingAndMalformedFilesNameTheFile() throws {
        #expect(throws: KeyFileError.self) { try KeyFile.privateKey(path: "/nonexistent/sdwan.key") }
        let path = try Self.write("hello\n", mode: 0o600)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: KeyFileError.invalid(path: path, reason: KeyParseError.notBase64.description)) {
            try KeyFile.privateKey(path: path)
        }
    }
}
