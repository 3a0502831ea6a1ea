import NIOCore

/// One traffic class inside an engine: its path selector, FEC encoder and decoder, hold queue and
/// counters.
struct EngineClass {
    var selector: PathSelector
    var fecPolicy: ClassFECPolicy?
    /// Set or cleared only through `setEncoder(_:)` (which keeps `encoderIsSet` in step); its
    /// payload is changed in place (`encoder!.protect(…)`).
    var encoder: FECEncoder?
    var decoder: FECDecoder?
    /// Whether `encoder` and `decoder` are set, kept beside them: testing a large optional is an
    /// outlined call (its tag lies in the payload's spare bits), and the protection and deadline
    /// tests run on most packets. Checked against the optionals in debug builds.
    private(set) var encoderIsSet = false
    private let decoderIsSet: Bool
    var controller: FECController?
    /// Packets waiting for a link while every allowed link is down (bounded in count and time).
    var hold: CircularBuffer<(packet: ByteBuffer, dscp: UInt8, since: Instant)>
    var counters = ClassCounters()
    /// Copied out of the class so the per-packet path reads no strings or arrays.
    let priority: TrafficPriority
    let outerDSCP: UInt8?
    /// The link (engine index) parity goes on, chosen at each re-selection (ParityPlacement), or
    /// `nil` when no link keeps a recovered packet within the class's latency budget.
    var parityLink: Int?
    /// `balance` classes: the next flow sequence per flow bucket (sender) and the reorder stage
    /// (receiver), both created on first use.
    let isBalance: Bool
    var flowSequences: [UInt32] = []
    var reorder: FlowReorder?
    /// The receiver's hold for this class: skew between the links in use + 10 ms, capped.
    var reorderHold: TimeSpan = .milliseconds(10)

    init(trafficClass: TrafficClass, classID: UInt8, fec: ClassFECPolicy?, maxMemberLength: Int) {
        selector = PathSelector(trafficClass: trafficClass)
        priority = trafficClass.priority
        isBalance = trafficClass.mode == .balance
        outerDSCP = trafficClass.outerDSCP
        fecPolicy = fec
        hold = CircularBuffer(initialCapacity: 16)
        decoderIsSet = fec != nil
        guard let fec else { return }
        let adaptive = fec.adaptive.map(FECController.init(configuration:))
        controller = adaptive
        if adaptive == nil {
            encoderIsSet = true
            encoder = FECEncoder(
                configuration: .init(
                    classID: classID,
                    groupSize: fec.groupSize,
                    stride: fec.stride,
                    delayBudget: fec.delayBudget,
                    maxMemberLength: maxMemberLength
                )
            )
        }
        // The decoder exists whenever the class may receive parity; its window covers several
        // strides of groups.
        decoder = FECDecoder(
            configuration: .init(
                classID: classID,
                window: 1_024,
                parityHoldTime: .milliseconds(500),
                maxPendingParities: 256
            )
        )
    }

    var trafficClass: TrafficClass { selector.trafficClass }

    // In-place reads of the optional components. `encoder != nil`, `encoder.map { … }` or
    // `encoder?.method()` copied the whole component (its arrays retained and released) on every
    // packet and every deadline query (seen in the optimised assembly); `encoderIsSet` and
    // `decoderIsSet` test without a copy or a call, and `inPlace(&encoder!)` reaches the payload
    // through an `inout` borrow.

    /// Sets or clears the encoder (FEC adaptation).
    mutating func setEncoder(_ encoder: FECEncoder?) {
        encoderIsSet = encoder != nil
        self.encoder = encoder
    }

    /// Whether the class has an encoder that can carry a member of `length` bytes.
    mutating func protects(memberLength length: Int) -> Bool {
        guard encoderIsSet else { return false }
        return inPlace(&encoder!) { $0.configuration.maxMemberLength >= length }
    }

    /// Whether the encoder has closed a group whose parity waits to be sent.
    mutating func hasParityReady() -> Bool {
        guard encoderIsSet else { return false }
        return inPlace(&encoder!) { $0.nextParityLongestMember != nil }
    }

    /// Whether the class receives parity (it has a decoder).
    mutating func hasDecoder() -> Bool { decoderIsSet }

    /// The earliest instant the class's timers need `handleTimeout`: an FEC group closing, held
    /// parity expiring, a reorder hold or a held packet running out.
    mutating func nextDeadline() -> Instant? {
        assert(encoderIsSet == (encoder != nil) && decoderIsSet == (decoder != nil), "FEC flags out of step")
        var earliest: Instant?
        if encoderIsSet { earliest = inPlace(&encoder!) { $0.nextDeadline() } }
        if decoderIsSet, let d = inPlace(&decoder!, { $0.nextDeadline() }), earliest.map({ d < $0 }) ?? true {
            earliest = d
        }
        if !hold.isEmpty {
            let d = hold.first!.since + selector.trafficClass.hold.maxWait
            if earliest.map({ d < $0 }) ?? true { earliest = d }
        }
        if case .some = reorder {
            let wait = reorderHold
            if let d = inPlace(&reorder!, { $0.nextDeadline(hold: wait) }), earliest.map({ d < $0 }) ?? true {
                earliest = d
            }
        }
        return earliest
    }
}
