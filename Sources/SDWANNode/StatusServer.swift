import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import SDWANCore
import SDWANIO

/// What the status server serves; implemented by both nodes, called on the node's event loop.
protocol StatusSource: AnyObject, Sendable {
    func statusNow() -> NodeStatus
    func metricsNow() -> String
}

extension EdgeNode: StatusSource {}
extension HubNode: StatusSource {}

/// A tiny HTTP/1.1 server on the node's own event loop: `GET /status` (JSON) and `GET /metrics`
/// (Prometheus text). Loopback by default (docs/operations.md); one request per connection is
/// enough for scrapers and `sdwan status`, so it answers and closes.
public final class StatusServer: Sendable {
    public let channel: Channel
    /// The bound address (the kernel's port when 0 was asked for).
    public let localEndpoint: UDPEndpoint

    private init(channel: Channel, localEndpoint: UDPEndpoint) {
        self.channel = channel
        self.localEndpoint = localEndpoint
    }

    public static func start(for node: EdgeNode, at address: UDPEndpoint) -> EventLoopFuture<StatusServer> {
        start(source: node, eventLoop: node.eventLoop, at: address)
    }

    public static func start(for node: HubNode, at address: UDPEndpoint) -> EventLoopFuture<StatusServer> {
        start(source: node, eventLoop: node.eventLoop, at: address)
    }

    static func start(
        source: StatusSource,
        eventLoop: EventLoop,
        at address: UDPEndpoint
    ) -> EventLoopFuture<StatusServer> {
        ServerBootstrap(group: eventLoop)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(StatusHTTPHandler(source: source))
                }
            }
            .bind(to: address.socketAddress)
            .flatMapThrowing { channel in
                guard let local = channel.localAddress.flatMap(UDPEndpoint.init) else {
                    throw StatusServerError.noLocalAddress
                }
                return StatusServer(channel: channel, localEndpoint: local)
            }
    }

    public func close() -> EventLoopFuture<Void> { channel.close() }
}

enum StatusServerError: Error {
    case noLocalAddress
}

final class StatusHTTPHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let source: StatusSource
    var uri: String?
    var method: HTTPMethod = .GET

    init(source: StatusSource) { self.source = source }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            uri = head.uri
            method = head.method
        case .body:
            break
        case .end:
            respond(context: context)
        }
    }

    private func respond(context: ChannelHandlerContext) {
        let path = uri.map { String($0.split(separator: "?", maxSplits: 1).first ?? "") } ?? ""
        var status = HTTPResponseStatus.ok
        var contentType = "text/plain; charset=utf-8"
        var body: String
        switch (method, path) {
        case (.GET, "/metrics"):
            contentType = "text/plain; version=0.0.4; charset=utf-8"
            body = source.metricsNow()
        case (.GET, "/status"):
            contentType = "application/json"
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            body = (try? encoder.encode(source.statusNow())).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        case (.GET, _):
            status = .notFound
            body = "not found: try /status or /metrics\n"
        default:
            status = .methodNotAllowed
            body = "GET only\n"
        }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: contentType)
        headers.add(name: "Content-Length", value: "\(body.utf8.count)")
        headers.add(name: "Connection", value: "close")
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))),
            promise: nil
        )
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
    }
}
