import SDWANCore

#if canImport(Glibc)
import Glibc
#endif

/// Why a key file was refused. Each message names the file and says how to fix it.
public enum KeyFileError: Error, CustomStringConvertible, Equatable {
    case cannotOpen(path: String, reason: String)
    case readableByOthers(path: String, mode: UInt32)
    case invalid(path: String, reason: String)

    public var description: String {
        switch self {
        case .cannotOpen(let path, let reason):
            "\(path): cannot read key file: \(reason)"
        case .readableByOthers(let path, let mode):
            "\(path): key file is accessible by group or others (mode \(String(mode & 0o777, radix: 8))); "
                + "fix with: chmod 600 \(path)"
        case .invalid(let path, let reason):
            "\(path): \(reason)"
        }
    }
}

/// Reads private-key and PSK files. Like WireGuard's tools, a secret file that group or others can
/// read is refused: on a branch appliance the key is the branch's identity.
public enum KeyFile {
    /// The file's contents, after checking its permissions.
    public static func readSecretText(path: String) throws(KeyFileError) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .cannotOpen(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .cannotOpen(path: path, reason: String(cString: strerror(errno))) }
        guard info.st_mode & 0o077 == 0 else { throw .readableByOthers(path: path, mode: UInt32(info.st_mode)) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 256)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 { throw .cannotOpen(path: path, reason: String(cString: strerror(errno))) }
            if n == 0 || bytes.count > 4096 { break }
            bytes += chunk[0..<n]
        }
        SecretBytes.wipe(&chunk)
        defer { SecretBytes.wipe(&bytes) }
        return String(decoding: bytes, as: UTF8.self)
    }

    public static func privateKey(path: String) throws(KeyFileError) -> PrivateKey {
        let text = try readSecretText(path: path)
        do { return try PrivateKey(base64: text) } catch { throw .invalid(path: path, reason: error.description) }
    }

    public static func presharedKey(path: String) throws(KeyFileError) -> PresharedKey {
        let text = try readSecretText(path: path)
        do { return try PresharedKey(base64: text) } catch { throw .invalid(path: path, reason: error.description) }
    }
}
