import Logging
import NIOCore
import SDWANCore
import SDWANIO

/// A link or listen socket that SwiftNIO closed underneath its owner, and when to rebuild it.
///
/// NIO treats every datagram send error but EMSGSIZE, EHOSTUNREACH, ECONNREFUSED and ENOMEM as
/// fatal and closes the channel: a send failing with ENETUNREACH or EADDRNOTAVAIL (route lost,
/// address removed by a PPPoE drop or a DHCP renumbering) would leave the link without a socket
/// for good. The owners' once-a-second tick notices the inactive channel and rebuilds it: the
/// first attempt 1 s after the loss, then 2, 4, … capped at 30 s while the bind fails (or the new
/// socket dies again). The backoff resets once a rebuilt socket has stayed open for 30 s.
struct SocketRebuild {
    static let firstDelay = TimeSpan.seconds(1)
    static let maxDelay = TimeSpan.seconds(30)

    /// The wait before the attempt after the next one.
    private(set) var delay = firstDelay
    /// No attempt before this.
    private(set) var nextAttempt = Instant.zero
    /// An open is in flight (its completion clears this).
    var opening = false
    /// When the last rebuild succeeded (`nil` while the socket is missing).
    var rebuiltAt: Instant?
    /// Where to bind the new socket (a listener keeps its kernel-chosen port).
    var endpoint: UDPEndpoint

    init(endpoint: UDPEndpoint) { self.endpoint = endpoint }

    /// The socket was lost or an attempt failed: next attempt after `delay`, which doubles.
    mutating func schedule(now: Instant) {
        nextAttempt = now + delay
        delay = min(delay * 2, Self.maxDelay)
        rebuiltAt = nil
    }

    /// True when an attempt may start now.
    func due(now: Instant) -> Bool { !opening && rebuiltAt == nil && now >= nextAttempt }

    /// True once the rebuilt socket has stayed open `maxDelay`: the entry can go (backoff reset).
    func settled(now: Instant) -> Bool { rebuiltAt.map { now - $0 >= Self.maxDelay } ?? true }
}

/// What a slot's once-a-second check found (`[Key: SocketRebuild].check`).
enum SocketCheck {
    /// Its socket is open, or it has none and none was lost: nothing to do.
    case fine
    /// Its socket (this one) was closed underneath just now: the caller empties the slot and
    /// reports it.
    case lost(UDPLinkSocket)
    /// Lost, and the next attempt is not due (or one is in flight).
    case waiting
    /// An attempt is due at this endpoint: open it, then `attemptEnded`.
    case due(UDPEndpoint)
}

extension Dictionary where Value == SocketRebuild {
    /// The rebuild state machine for the slot `key` whose socket is `socket` (link, forward and
    /// listen sockets share it); a socket lost now is to be rebuilt at `endpoint(socket)`.
    mutating func check(
        _ key: Key,
        socket: UDPLinkSocket?,
        now: Instant,
        endpoint: (UDPLinkSocket) -> UDPEndpoint
    ) -> SocketCheck {
        if let socket {
            if socket.channel.isActive {
                if let rebuild = self[key], rebuild.settled(now: now) { self[key] = nil }
                return .fine
            }
            self[key, default: SocketRebuild(endpoint: endpoint(socket))].schedule(now: now)
            return .lost(socket)
        }
        guard var rebuild = self[key] else { return .fine }
        guard rebuild.due(now: now) else { return .waiting }
        rebuild.opening = true
        self[key] = rebuild
        return .due(rebuild.endpoint)
    }

    /// An attempt for `key` ended: failed (the next one is scheduled with backoff), or opened a
    /// socket that the owner `installed` in its slot (the backoff starts settling) or closed
    /// because the slot moved on meanwhile (the next tick tries again).
    mutating func attemptEnded(_ key: Key, failed: Bool, installed: Bool = false, now: Instant) {
        self[key]?.opening = false
        if failed {
            self[key]?.schedule(now: now)
        } else if installed {
            self[key]?.rebuiltAt = now
        }
    }
}

extension EdgeNode {
    /// Once a second for link slot `i`: notices a socket closed underneath (the link goes down)
    /// and rebuilds it when due. True while the link waits for its rebuild (the interface check
    /// then stays out of the way).
    func checkLinkSocket(_ i: Int, now: Instant) -> Bool {
        let link = configuration.links[i]
        switch lostLinks.check(link.id, socket: linkSockets[i], now: now, endpoint: { _ in link.local }) {
        case .fine:
            return false
        case .waiting:
            return true
        case .lost:
            linkSockets[i] = nil
            dropLog.log(
                logger,
                .warning,
                key: "link socket lost \(link.name)",
                now: now,
                "link \(link.name): socket closed by a send error (route or address lost); link down, rebuilding"
            )
            for tunnel in tunnels { tunnel.engine.handleLinkStatus(link.id, up: false, now: now) }
            return true
        case .due:
            break
        }
        openLink(link).whenComplete { [self] result in
            let now = Clocks.monotonic()
            switch result {
            case .failure(let error):
                lostLinks.attemptEnded(link.id, failed: true, now: now)
                dropLog.log(
                    logger,
                    .warning,
                    key: "link socket rebuild \(link.name)",
                    now: now,
                    "link \(link.name): socket rebuild failed, retrying: \(error)"
                )
            case .success(let socket):
                // The link may have moved or gone (a reload) while the socket opened.
                let slot = linkSlot[Int(link.id)]
                guard !stopped, slot >= 0, linkSockets[slot] == nil else {
                    lostLinks.attemptEnded(link.id, failed: false, now: now)
                    _ = socket.close()
                    return
                }
                linkSockets[slot] = socket
                lostLinks.attemptEnded(link.id, failed: false, installed: true, now: now)
                linkSocketRebuilds[link.name, default: 0] &+= 1
                logger.notice("link socket rebuilt", metadata: ["link": .string(link.name)])
                for tunnel in tunnels { tunnel.engine.handleLinkStatus(link.id, up: true, now: now) }
                drain(now: now)
            }
        }
        return true
    }
}

extension EdgeNode {
    /// Once a second for forward `f`: notices its listen socket closed underneath (a send to a
    /// client failed fatally) and rebuilds it at the address and port it had, when due. Clients
    /// keep their flows (the flow table is keyed by client, not by socket).
    func checkForwardSocket(_ f: Int, now: Instant) {
        let forward = configuration.forwards[f]
        switch lostForwards.check(f, socket: forwardSockets[f], now: now, endpoint: \.localEndpoint) {
        case .fine, .waiting:
            return
        case .lost(let socket):
            forwardSockets[f] = nil
            dropLog.log(
                logger,
                .warning,
                key: "forward socket lost \(forward.name)",
                now: now,
                "forward \(forward.name): socket \(socket.localEndpoint) closed by a send error; rebuilding"
            )
        case .due(let endpoint):
            openForward(f, at: endpoint).whenComplete { [self] result in
                let now = Clocks.monotonic()
                switch result {
                case .failure(let error):
                    lostForwards.attemptEnded(f, failed: true, now: now)
                    dropLog.log(
                        logger,
                        .warning,
                        key: "forward socket rebuild \(forward.name)",
                        now: now,
                        "forward \(forward.name): socket rebuild at \(endpoint) failed, retrying: \(error)"
                    )
                case .success(let socket):
                    guard !stopped, forwardSockets[f] == nil else {
                        lostForwards.attemptEnded(f, failed: false, now: now)
                        _ = socket.close()
                        return
                    }
                    forwardSockets[f] = socket
                    lostForwards.attemptEnded(f, failed: false, installed: true, now: now)
                    forwardSocketRebuilds[forward.name, default: 0] &+= 1
                    logger.notice("forward socket rebuilt", metadata: ["forward": .string(forward.name)])
                }
            }
        }
    }
}

extension HubNode {
    /// Once a second for every listen slot: notices a listener closed underneath and rebuilds it
    /// (at the address and port it had) when due.
    func checkListenerSockets(now: Instant) {
        for i in listeners.indices where listenAddresses[i] != nil {
            switch lostListeners.check(i, socket: listeners[i], now: now, endpoint: \.localEndpoint) {
            case .fine, .waiting:
                continue
            case .lost(let socket):
                listeners[i] = nil
                dropLog.log(
                    logger,
                    .warning,
                    key: "listen socket lost \(i)",
                    now: now,
                    "listener \(socket.localEndpoint): socket closed by a send error; rebuilding"
                )
            case .due(let endpoint):
                openListener(i, endpoint).whenComplete { [self] result in
                    let now = Clocks.monotonic()
                    switch result {
                    case .failure(let error):
                        lostListeners.attemptEnded(i, failed: true, now: now)
                        dropLog.log(
                            logger,
                            .warning,
                            key: "listen socket rebuild \(i)",
                            now: now,
                            "listener \(endpoint): socket rebuild failed, retrying: \(error)"
                        )
                    case .success(let socket):
                        // A reload may have removed the address while the socket opened.
                        guard !stopped, listenAddresses[i] != nil, listeners[i] == nil else {
                            lostListeners.attemptEnded(i, failed: false, now: now)
                            _ = socket.close()
                            return
                        }
                        listeners[i] = socket
                        lostListeners.attemptEnded(i, failed: false, installed: true, now: now)
                        listenSocketRebuilds[i, default: 0] &+= 1
                        logger.notice(
                            "listen socket rebuilt",
                            metadata: ["address": .string("\(socket.localEndpoint)")]
                        )
                        drain(now: now)
                    }
                }
            }
        }
    }
}

extension MetricsText {
    /// `sdwan_link_socket_rebuilds_total{link}` (edge) or `sdwan_listen_socket_rebuilds_total{listen}`
    /// (hub): sockets rebuilt after NIO closed them on a send error, one sample per link/listener.
    mutating func socketRebuilds(_ name: String, label: String, _ samples: [(String, UInt64)]) {
        for (value, count) in samples {
            counter(name, "Sockets rebuilt after a send error closed them.", [(label, value)], count)
        }
    }
}
