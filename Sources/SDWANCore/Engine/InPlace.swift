/// Runs `body` on `value` borrowed in place: an `inout` access, so a non-mutating method called
/// inside reads the value where it is stored. Called directly on a component kept in the engine's
/// arrays or in an optional, such a method got a copy of the whole component first (its arrays
/// retained and released, a shaper's lanes memberwise-copied), seen in the optimised code.
@inline(__always)
func inPlace<T, R>(_ value: inout T, _ body: (inout T) -> R) -> R { body(&value) }
