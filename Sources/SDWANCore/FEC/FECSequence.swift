/// Serial-number order on the 32-bit FEC sequence space (RFC 1982): `a` is after `b` when the
/// signed 32-bit difference is positive. Right while live sequence numbers span under 2^31.
@inlinable
func sequenceDistance(_ a: UInt32, from b: UInt32) -> Int {
    Int(Int32(bitPattern: a &- b))
}
