import SDWANCore
import SDWANIO

#if canImport(Glibc)
import Glibc
#endif

/// Sends one command to a running emulator's control socket and waits for the reply: what
/// `sdwan wanem ctl` does. Blocking (a plain socket), for the command line and tests.
public enum ControlClient {
    /// The reply to `command`, or an error if nothing answers within `timeout`.
    public static func send(
        _ command: String,
        to control: UDPEndpoint,
        timeout: TimeSpan = .seconds(10)
    ) throws
        -> String
    {
        let v4 = control.address.isV4
        let fd = socket(v4 ? AF_INET : AF_INET6, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw WANEmulatorError("socket(): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var tv = timeval(
            tv_sec: Int(timeout.nanoseconds / 1_000_000_000),
            tv_usec: Int(timeout.nanoseconds % 1_000_000_000 / 1_000)
        )
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let connected = control.socketAddress.withSockAddr { address, length in
            connect(fd, address, socklen_t(length)) == 0
        }
        guard connected else {
            throw WANEmulatorError("connect \(control): \(String(cString: strerror(errno)))")
        }
        let bytes = Array(command.utf8)
        guard Glibc.send(fd, bytes, bytes.count, 0) == bytes.count else {
            throw WANEmulatorError("send to \(control): \(String(cString: strerror(errno)))")
        }
        var reply = [UInt8](repeating: 0, count: 65_536)
        let n = recv(fd, &reply, reply.count, 0)
        guard n >= 0 else {
            let reason = errno == EAGAIN || errno == EWOULDBLOCK ? "no reply" : String(cString: strerror(errno))
            throw WANEmulatorError(
                "\(reason) from \(control) within \(timeout.milliseconds) ms; is `sdwan wanem` running there?"
            )
        }
        return String(decoding: reply[0..<n], as: UTF8.self)
    }
}
