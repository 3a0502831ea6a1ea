import NIOCore
import SDWANCore
import SDWANLinkModel

/// Drives one class's encoder and decoder over modelled links with zero delay: data on one link,
/// parity on the same link (sharing its loss process, so a parity takes a step of the chain) or on
/// a second link. Members are slices of one pattern buffer, so a run allocates almost nothing per
/// packet and every delivered or recovered member can be checked byte for byte.
struct FECRun {
    var groupSize = 4
    var stride = 10
    var delayBudget = TimeSpan.milliseconds(50)
    var interval = TimeSpan.microseconds(10)
    var packets = 100_000
    var dataLoss = LossModel.none
    /// `nil`: parity rides the data link; otherwise its own link with this model.
    var parityLoss: LossModel?
    var seed: UInt64 = 1

    struct Result {
        var lostData = 0
        var recovered = 0
        /// Members lost and not recovered.
        var residual: Int { lostData - recovered }
        var deliveredTwice = 0
        var corrupted = 0
        var encoder = FECEncoder.Statistics()
        var decoder = FECDecoder.Counters()
        /// Parity of each group of exactly one lost member (data or parity) reached the decoder and
        /// the lost data member was recovered: counted over groups with one lost data member.
        var singleLossGroups = 0
        var singleLossRecovered = 0
    }

    static let pattern: ByteBuffer = {
        var random = SeededRandomSource(seed: 99)
        var buffer = ByteBufferAllocator().buffer(capacity: 4096)
        for _ in 0..<4096 { buffer.writeInteger(UInt8(truncatingIfNeeded: random.next())) }
        return buffer
    }()

    /// The bytes of member `sequence`: 1…48 bytes of the pattern, varying lengths so that length
    /// recovery and zero padding are exercised.
    static func member(_ sequence: UInt32) -> ByteBuffer {
        let s = Int(sequence)
        return pattern.getSlice(at: (s &* 7) % 2048, length: 1 + (s &* 13) % 48)!
    }

    func run() -> Result {
        var random = SeededRandomSource(seed: seed)
        var parityRandom = random.derived(1)
        var dataLink = LossProcess(model: dataLoss)
        var parityLink = LossProcess(model: parityLoss ?? .none)
        var encoder = FECEncoder(
            configuration: .init(classID: 1, groupSize: groupSize, stride: stride, delayBudget: delayBudget)
        )
        var decoder = FECDecoder(configuration: .init(classID: 1, window: 4096))
        var delivered = [Bool](repeating: false, count: packets)
        var lost = [Bool](repeating: false, count: packets)
        var result = Result()
        var scratch = ByteBufferAllocator().buffer(capacity: 2048)
        var parityLost = [Bool]()  // per group, indexed in close order
        var groups: [(base: UInt32, count: Int)] = []

        func drain(_ now: Instant) {
            while true {
                scratch.clear()
                guard let parity = encoder.pollParity(into: &scratch) else { break }
                groups.append((parity.baseSequence, parity.count))
                let dropped =
                    parityLoss == nil
                    ? dataLink.drops(at: now, using: &random)
                    : parityLink.drops(at: now, using: &parityRandom)
                parityLost.append(dropped)
                if !dropped {
                    decoder.receiveParityFrame(
                        scratch.getSlice(at: scratch.readerIndex + 3, length: scratch.readableBytes - 3)!,
                        now: now
                    )
                }
                while let r = decoder.pollRecovered() {
                    let i = Int(r.sequence)
                    if delivered[i] { result.deliveredTwice += 1 }
                    delivered[i] = true
                    if r.payload != Self.member(r.sequence) { result.corrupted += 1 }
                    result.recovered += 1
                }
            }
        }

        for n in 0..<packets {
            let now = Instant.zero + interval * Int64(n)
            if let deadline = encoder.nextDeadline(), deadline <= now {
                encoder.handleTimeout(now: now)
                drain(now)
            }
            let member = Self.member(UInt32(n))
            let sequence = encoder.protect(member, now: now)
            precondition(Int(sequence) == n)
            if dataLink.drops(at: now, using: &random) {
                lost[n] = true
                result.lostData += 1
            } else if decoder.receiveMember(sequence: sequence, payload: member, now: now) == .deliver {
                if delivered[n] { result.deliveredTwice += 1 }
                delivered[n] = true
            }
            drain(now)
        }
        let end = Instant.zero + interval * Int64(packets)
        encoder.flush(now: end)
        drain(end)
        decoder.handleTimeout(now: end + .seconds(10))
        for (g, group) in groups.enumerated() {
            var lostMembers = 0
            var lostMember = 0
            for i in 0..<group.count {
                let s = Int(group.base) + i * stride
                if lost[s] {
                    lostMembers += 1
                    lostMember = s
                }
            }
            if lostMembers == 1 && !parityLost[g] {
                result.singleLossGroups += 1
                if delivered[lostMember] { result.singleLossRecovered += 1 }
            }
        }
        result.encoder = encoder.statistics
        result.decoder = decoder.counters
        return result
    }
}

/// Expected unrecovered data members per group, and their second moment, for a group whose
/// members (and possibly its parity) sit at given positions of one Gilbert–Elliott chain
/// (REFERENCE.md, "Burst loss model"): enumerate the 2^n loss patterns, each with probability
/// π_{s0} · Π P^{gap}(s_i → s_{i+1}), where the n-step chain has P(Bad | Good) = π − π·λ^n and
/// P(Bad | Bad) = π + (1 − π)·λ^n, λ = 1 − p − r. A data member is unrecovered when it is lost and
/// some other member of the group (data or parity) is lost too.
struct GroupLossExpectation {
    var mean: Double
    var secondMoment: Double
    var variance: Double { secondMoment - mean * mean }

    /// `positions`: stream positions (increasing) of the group's packets on the chain; `isParity`
    /// marks the parity among them. `independentParityLoss`: the parity is on another link and lost
    /// independently with this probability (then no position of it is listed).
    static func gilbert(
        p: Double,
        r: Double,
        positions: [Int],
        isParity: [Bool],
        independentParityLoss: Double? = nil
    ) -> GroupLossExpectation {
        let pi = p / (p + r)
        let lambda = 1 - p - r
        func step(_ gap: Int, _ from: Bool, _ to: Bool) -> Double {
            let l = pow(lambda, gap)
            let bad = from ? pi + (1 - pi) * l : pi - pi * l
            return to ? bad : 1 - bad
        }
        var mean = 0.0
        var second = 0.0
        let n = positions.count
        for pattern in 0..<(1 << n) {
            let lostAt = (0..<n).map { pattern >> $0 & 1 == 1 }
            var probability = lostAt[0] ? pi : 1 - pi
            for i in 1..<n { probability *= step(positions[i] - positions[i - 1], lostAt[i - 1], lostAt[i]) }
            let dataLost = (0..<n).filter { lostAt[$0] && !isParity[$0] }.count
            let totalLost = lostAt.filter { $0 }.count
            for parityLost in independentParityLoss == nil ? [false] : [false, true] {
                let q = independentParityLoss.map { parityLost ? $0 : 1 - $0 } ?? 1
                if totalLost + (parityLost ? 1 : 0) >= 2 {
                    mean += probability * q * Double(dataLost)
                    second += probability * q * Double(dataLost * dataLost)
                }
            }
        }
        return GroupLossExpectation(mean: mean, secondMoment: second)
    }

    /// Independent loss p over m data members and one parity: a lost member stays lost when j ≥ 2
    /// members are lost, or j = 1 and the parity is lost. E[X] = m·p·[1 − (1 − p)^m] (REFERENCE.md).
    static func bernoulli(p: Double, members m: Int) -> GroupLossExpectation {
        var mean = 0.0
        var second = 0.0
        for j in 1...m {
            let pj = binomial(m, j) * pow(p, j) * pow(1 - p, m - j)
            let unrecovered = j >= 2 ? pj : pj * p
            mean += unrecovered * Double(j)
            second += unrecovered * Double(j * j)
        }
        return GroupLossExpectation(mean: mean, secondMoment: second)
    }

    static func binomial(_ n: Int, _ k: Int) -> Double {
        var c = 1.0
        for i in 0..<k { c = c * Double(n - i) / Double(i + 1) }
        return c
    }

    static func pow(_ x: Double, _ n: Int) -> Double {
        var result = 1.0
        for _ in 0..<n { result *= x }
        return result
    }
}
