import NIOCore

/// One traffic class inside an engine: its path selector, FEC encoder and decoder, hold queue and
/// counters.
struct EngineClass {
    var selector: PathSelector
    var fecPolicy: ClassFECPolicy?
    var encoder: FECEncoder?
    var decoder: FECDecoder?
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
        guard let fec else { return }
        let adaptive = fec.adaptive.map(FECController.init(configuration:))
        controller = adaptive
        if adaptive == nil {
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
}
