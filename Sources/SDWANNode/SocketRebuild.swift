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

extension EdgeNode {
    /// Once a second for link slot `i`: notices a socket closed underneath (the link goes down)
    /// and rebuilds it when due. True while the link waits for its rebuild (the interface check
    /// then stays out of the way).
    func checkLinkSocket(_ i: Int, now: Instant) -> Bool {
        let link = configuration.links[i]
        if let socket = linkSockets[i] {
            if socket.channel.isActive {
                if let rebuild = lostLinks[link.id], rebuild.settled(now: now) {
                    lostLinks[link.id] = nil
                }
                return false
            }
            linkSockets[i] = nil
            lostLinks[link.id, default: SocketRebuild(endpoint: link.local)].schedule(now: now)
            dropLog.log(
                logger,
                .warning,
                key: "link socket lost \(link.name)",
                now: now,
                "link \(link.name): socket closed by a send error (route or address lost); link down, rebuilding"
            )
            for tunnel in tunnels { tunnel.engine.handleLinkStatus(link.id, up: false, now: now) }
            return true
        }
        guard var rebuild = lostLinks[link.id] else { return false }
        guard rebuild.due(now: now) else { return true }
        rebuild.opening = true
        lostLinks[link.id] = rebuild
        openLink(link).whenComplete { [self] result in
            let now = Clocks.monotonic()
            lostLinks[link.id]?.opening = false
            switch result {
            case .failure(let error):
                lostLinks[link.id]?.schedule(now: now)
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
                    _ = socket.close()
                    return
                }
                linkSockets[slot] = socket
                lostLinks[link.id]?.rebuiltAt = now
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
        if let socket = forwardSockets[f] {
            if socket.channel.isActive {
                if let rebuild = lostForwards[f], rebuild.settled(now: now) { lostForwards[f] = nil }
                return
            }
            forwardSockets[f] = nil
            lostForwards[f, default: SocketRebuild(endpoint: socket.localEndpoint)].schedule(now: now)
            dropLog.log(
                logger,
                .warning,
                key: "forward socket lost \(forward.name)",
                now: now,
                "forward \(forward.name): socket \(socket.localEndpoint) closed by a send error; rebuilding"
            )
            return
        }
        guard var rebuild = lostForwards[f], rebuild.due(now: now) else { return }
        rebuild.opening = true
        lostForwards[f] = rebuild
        let endpoint = rebuild.endpoint
        openForward(f, at: endpoint).whenComplete { [self] result in
            let now = Clocks.monotonic()
            lostForwards[f]?.opening = false
            switch result {
            case .failure(let error):
                lostForwards[f]?.schedule(now: now)
                dropLog.log(
                    logger,
                    .warning,
                    key: "forward socket rebuild \(forward.name)",
                    now: now,
                    "forward \(forward.name): socket rebuild at \(endpoint) failed, retrying: \(error)"
                )
            case .success(let socket):
                guard !stopped, forwardSockets[f] == nil else {
                    _ = socket.close()
                    return
                }
                forwardSockets[f] = socket
                lostForwards[f]?.rebuiltAt = now
                forwardSocketRebuilds[forward.name, default: 0] &+= 1
                logger.notice("forward socket rebuilt", metadata: ["forward": .string(forward.name)])
            }
        }
    }
}

extension HubNode {
    /// Once a second for every listen slot: notices a listener closed underneath and rebuilds it
    /// (at the address and port it had) when due.
    func checkListenerSockets(now: Instant) {
        for i in listeners.indices where listenAddresses[i] != nil {
            if let socket = listeners[i] {
                if socket.channel.isActive {
                    if let rebuild = lostListeners[i], rebuild.settled(now: now) { lostListeners[i] = nil }
                    continue
                }
                listeners[i] = nil
                lostListeners[i, default: SocketRebuild(endpoint: socket.localEndpoint)].schedule(now: now)
                dropLog.log(
                    logger,
                    .warning,
                    key: "listen socket lost \(i)",
                    now: now,
                    "listener \(socket.localEndpoint): socket closed by a send error; rebuilding"
                )
                continue
            }
            guard var rebuild = lostListeners[i], rebuild.due(now: now) else { continue }
            rebuild.opening = true
            lostListeners[i] = rebuild
            let endpoint = rebuild.endpoint
            openListener(i, endpoint).whenComplete { [self] result in
                let now = Clocks.monotonic()
                lostListeners[i]?.opening = false
                switch result {
                case .failure(let error):
                    lostListeners[i]?.schedule(now: now)
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
                        _ = socket.close()
                        return
                    }
                    listeners[i] = socket
                    lostListeners[i]?.rebuiltAt = now
                    listenSocketRebuilds[i, default: 0] &+= 1
                    logger.notice("listen socket rebuilt", metadata: ["address": .string("\(socket.localEndpoint)")])
                    drain(now: now)
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
