import NIOCore
import SDWANCore

/// The one timer a node arms from its engine's `nextDeadline()`: rescheduled only when the
/// deadline changes, relative to the batch's `now` (no extra clock read).
struct EngineTimer {
    private var scheduled: Scheduled<Void>?
    private var armedAt: Instant?

    /// Arms the timer for `deadline` (cancelling another), or disarms it for `nil`.
    mutating func arm(_ deadline: Instant?, now: Instant, on eventLoop: EventLoop, fire: @escaping @Sendable () -> Void)
    {
        guard deadline != armedAt else { return }
        scheduled?.cancel()
        scheduled = nil
        armedAt = deadline
        guard let deadline else { return }
        let delay = max(0, (deadline - now).nanoseconds)
        scheduled = eventLoop.scheduleTask(in: .nanoseconds(delay), fire)
    }

    /// Forgets the armed deadline (call first thing when the timer fires).
    mutating func fired() {
        scheduled = nil
        armedAt = nil
    }

    mutating func cancel() {
        scheduled?.cancel()
        scheduled = nil
        armedAt = nil
    }
}
