import Foundation
import SDWANCore

/// Sets a TUN interface's MTU, addresses and routes with iproute2 (`ip`), then brings it up.
/// Runs once at start-up, off the hot path; every failure names the command and ip's message.
public enum TUNInterface {
    /// The `ip` argument lists `configure` runs, in order (exposed for tests and docs).
    public static func commands(
        name: String,
        mtu: Int,
        addresses: [InterfaceAddress],
        routes: [IPPrefix]
    ) -> [[String]] {
        var out: [[String]] = [["link", "set", "dev", name, "mtu", String(mtu)]]
        out += addresses.map { addressCommand("add", $0, name) }
        out.append(["link", "set", "dev", name, "up"])
        out += routes.map { routeCommand("replace", $0, name) }
        return out
    }

    /// `ip addr add|del ADDRESS dev NAME`; an added IPv6 address skips duplicate address detection
    /// (a point-to-point tunnel: the address is usable at once).
    private static func addressCommand(_ verb: String, _ a: InterfaceAddress, _ name: String) -> [String] {
        let family = a.address.isV4 ? "-4" : "-6"
        return [family, "addr", verb, "\(a)", "dev", name] + (verb == "add" && !a.address.isV4 ? ["nodad"] : [])
    }

    /// `ip route replace|del PREFIX dev NAME`.
    private static func routeCommand(_ verb: String, _ r: IPPrefix, _ name: String) -> [String] {
        [r.address.isV4 ? "-4" : "-6", "route", verb, "\(r)", "dev", name]
    }

    /// The `ip` argument lists that move a configured interface from one set of addresses and
    /// routes to another (a reload; docs/operations.md "Reload"): what is new first, then what is
    /// gone, so traffic that both sets route never loses its route.
    public static func changeCommands(
        name: String,
        addresses: (old: [InterfaceAddress], new: [InterfaceAddress]),
        routes: (old: [IPPrefix], new: [IPPrefix])
    ) -> [[String]] {
        addresses.new.filter { !addresses.old.contains($0) }.map { addressCommand("add", $0, name) }
            + routes.new.filter { !routes.old.contains($0) }.map { routeCommand("replace", $0, name) }
            + routes.old.filter { !routes.new.contains($0) }.map { routeCommand("del", $0, name) }
            + addresses.old.filter { !addresses.new.contains($0) }.map { addressCommand("del", $0, name) }
    }

    /// Runs every command in `commands`; returns ip's message for each that failed (the others
    /// still run).
    public static func runAll(_ commands: [[String]]) -> [String] {
        var failures: [String] = []
        for arguments in commands {
            do {
                try run(arguments)
            } catch {
                failures.append(error.description)
            }
        }
        return failures
    }

    /// Configures `name` (which must exist: `TUNDevice.open` created it). Returns warnings for the
    /// log: what could not be set but does not stop the tunnel.
    @discardableResult
    public static func configure(
        name: String,
        mtu: Int,
        addresses: [InterfaceAddress],
        routes: [IPPrefix]
    ) throws(TUNError) -> [String] {
        for arguments in commands(name: name, mtu: mtu, addresses: addresses, routes: routes) {
            try run(arguments)
        }
        // The tunnel writes ICMP "too big" into the device from the device's own address; IPv4
        // drops packets arriving with a local source address unless accept_local is set.
        // Without it (no permission to write /proc/sys: not root), the tunnel still works but IPv4
        // "fragmentation needed" from the tunnel is lost; net.ipv4.conf.default.accept_local=1
        // set before start covers it.
        var warnings: [String] = []
        if addresses.contains(where: { $0.address.isV4 }) {
            let path = "/proc/sys/net/ipv4/conf/\(name)/accept_local"
            do {
                try "1\n".write(toFile: path, atomically: false, encoding: .utf8)
            } catch {
                warnings.append(
                    "cannot write \(path) (\(error.localizedDescription)): IPv4 ICMP \"fragmentation needed\" "
                        + "from the tunnel will be dropped by this host; set net.ipv4.conf.default.accept_local=1"
                )
            }
        }
        return warnings
    }

    /// Runs `ip` with `arguments`; throws with its standard error when it fails.
    static func run(_ arguments: [String]) throws(TUNError) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ipPath)
        process.arguments = arguments
        let errorPipe = Pipe()
        process.standardError = errorPipe
        process.standardOutput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw TUNError("cannot run \(ipPath): \(error) (install iproute2)")
        }
        process.waitUntilExit()
        let message = String(decoding: errorPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw TUNError(
                "ip \(arguments.joined(separator: " ")): \(message.trimmingCharacters(in: .whitespacesAndNewlines))"
            )
        }
    }

    static var ipPath: String {
        for candidate in ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"]
        where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        return "/usr/sbin/ip"
    }
}
