import NIOCore
import SDWANCore
import Testing

/// The hub's refusals (docs/crypto.md "Roles"): mac1 before any DH, unknown static key after one
/// DH and before any state, the greatest-timestamp rule, one answer per initiation, and mismatched
/// prologue or PSK.
@Suite struct HandshakeTests {
    final class Fixture {
        var random = SeededRandomSource(seed: 31)
        let hubKey: PrivateKey
        let edgeKey: PrivateKey
        let responder: HandshakeResponder

        init() {
            hubKey = PrivateKey.generate(using: &random)
            edgeKey = PrivateKey.generate(using: &random)
            responder = HandshakeResponder(localStatic: hubKey)
            responder.addPeer(edgeKey.publicKey, presharedKey: PresharedKey.none())
        }

        /// An initiation from an edge with `key` at wall time `seconds`, on link 0.
        func initiation(
            from key: borrowing PrivateKey,
            at seconds: Int64,
            psk: borrowing PresharedKey = PresharedKey.none(),
            prologue: [UInt8] = HandshakeWire.prologue,
            hub: PublicKey? = nil
        ) -> (EdgeSession, ByteBuffer) {
            let edge = EdgeSession(
                localStatic: key,
                hubPublicKey: hub ?? hubKey.publicKey,
                presharedKey: psk,
                prologue: prologue
            )
            edge.setLinks([0, 1])
            edge.connect(now: .zero, wallTime: WallTime(secondsSinceEpoch: seconds, nanoseconds: 0), using: &random)
            return (edge, edge.pollTransmit()!.datagram)
        }

        func handle(_ datagram: ByteBuffer, indexProbes: inout Int) -> Result<ResponderAccept, SessionDropReason> {
            var probes = 0
            let result = responder.handleInitiation(datagram, linkID: 0, now: .zero, using: &random) { _ in
                probes += 1
                return false
            }
            indexProbes += probes
            return result
        }
    }

    @Test func knownBranchIsAnsweredAndBothSidesAgree() throws {
        let f = Fixture()
        let (edge, initiation) = f.initiation(from: f.edgeKey, at: 1_790_000_000)
        var probes = 0
        let accept = try f.handle(initiation, indexProbes: &probes).get()
        #expect(accept.peer == f.edgeKey.publicKey)
        #expect(probes == 1)
        var response = accept.response.datagram
        #expect(edge.handleDatagram(&response, linkID: 0, now: .zero) == .handshakeCompleted)
        #expect(edge.currentLocalIndex == accept.session.remoteIndex)
        // Per-direction keys: the edge's sending key is not the hub's.
        #expect(edge.currentKeyID != accept.session.sendKeyID)
    }

    @Test func unknownStaticKeyIsRefusedBeforeAnyState() {
        let f = Fixture()
        let stranger = PrivateKey.generate(using: &f.random)
        let (_, initiation) = f.initiation(from: stranger, at: 1_790_000_000)
        var probes = 0
        #expect(f.handle(initiation, indexProbes: &probes).failureReason == .unknownStaticKey)
        #expect(probes == 0, "no index was drawn: no state allocated")
        #expect(f.responder.drops[.unknownStaticKey] == 1)
    }

    @Test func initiationForAnotherHubFailsMac1BeforeAnyDH() {
        let f = Fixture()
        let otherHub = PrivateKey.generate(using: &f.random).publicKey
        let (_, initiation) = f.initiation(from: f.edgeKey, at: 1_790_000_000, hub: otherHub)
        var probes = 0
        #expect(f.handle(initiation, indexProbes: &probes).failureReason == .mac1Invalid)
    }

    /// The greatest-timestamp rule: an edge that reboots with its clock behind is refused until its
    /// clock passes the greatest timestamp the hub accepted (docs/crypto.md "Wrong wall clock"); a
    /// replayed older initiation is refused too.
    @Test func olderOrEqualTimestampsAreRefused() {
        let f = Fixture()
        var probes = 0
        let (_, old) = f.initiation(from: f.edgeKey, at: 1_790_000_000)
        let (_, current) = f.initiation(from: f.edgeKey, at: 1_790_000_100)
        #expect(f.handle(current, indexProbes: &probes).failureReason == nil)
        #expect(f.handle(old, indexProbes: &probes).failureReason == .staleTimestamp)
        let (_, sameSecond) = f.initiation(from: f.edgeKey, at: 1_790_000_100)
        #expect(f.handle(sameSecond, indexProbes: &probes).failureReason == .staleTimestamp)
        let (_, rebootedBehind) = f.initiation(from: f.edgeKey, at: 0)
        #expect(f.handle(rebootedBehind, indexProbes: &probes).failureReason == .staleTimestamp)
        let (_, later) = f.initiation(from: f.edgeKey, at: 1_790_000_101)
        #expect(f.handle(later, indexProbes: &probes).failureReason == nil)
        #expect(f.responder.drops[.staleTimestamp] == 3)
    }

    /// The same initiation arrives once per link and again if the network duplicates it: the hub
    /// answers the first and refuses every copy without a DH.
    @Test func copiesOfAnAnsweredInitiationAreRefused() {
        let f = Fixture()
        let (edge, first) = f.initiation(from: f.edgeKey, at: 1_790_000_000)
        let second = edge.pollTransmit()!.datagram
        #expect(first.getInteger(at: 2, as: UInt8.self) == 0 && second.getInteger(at: 2, as: UInt8.self) == 1)
        var probes = 0
        #expect(f.handle(second, indexProbes: &probes).failureReason == nil)
        #expect(f.handle(first, indexProbes: &probes).failureReason == .duplicateInitiation)
        #expect(f.handle(second, indexProbes: &probes).failureReason == .duplicateInitiation)
        #expect(probes == 1)
    }

    @Test func mismatchedPrologueFailsAtTheHub() {
        let f = Fixture()
        let (_, initiation) = f.initiation(from: f.edgeKey, at: 1_790_000_000, prologue: Array("sdwan v2".utf8))
        var probes = 0
        #expect(f.handle(initiation, indexProbes: &probes).failureReason == .handshakeDecryptionFailed)
    }

    /// psk2 mixes the PSK into the response: a wrong PSK is caught by the edge.
    @Test func mismatchedPresharedKeyFailsAtTheEdge() throws {
        let f = Fixture()
        let psk = PresharedKey.generate(using: &f.random)
        let (edge, initiation) = f.initiation(from: f.edgeKey, at: 1_790_000_000, psk: psk)
        var probes = 0
        var response = try f.handle(initiation, indexProbes: &probes).get().response.datagram
        #expect(edge.handleDatagram(&response, linkID: 0, now: .zero) == .dropped(.handshakeDecryptionFailed))
        #expect(!edge.isEstablished)
    }
}
