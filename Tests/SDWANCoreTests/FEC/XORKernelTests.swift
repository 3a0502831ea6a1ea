import SDWANCore
import Testing

/// The word-at-a-time kernel agrees with a byte loop at every length and misalignment it branches on.
@Suite struct XORKernelTests {
    @Test func kernelMatchesAByteLoopAtEveryLengthAndOffset() {
        var random = SeededRandomSource(seed: 3)
        let source = (0..<300).map { _ in UInt8.random(in: 0...255, using: &random) }
        let start = (0..<300).map { _ in UInt8.random(in: 0...255, using: &random) }
        for offset in 0..<3 {
            for length in 0...(300 - offset) {
                var ours = start
                var reference = start
                for i in 0..<length { reference[offset + i] ^= source[i] }
                source.withUnsafeBytes { s in
                    ours.withUnsafeMutableBytes { a in
                        XORKernel.xor(
                            UnsafeRawBufferPointer(rebasing: s[0..<length]),
                            into: UnsafeMutableRawBufferPointer(rebasing: a[offset...])
                        )
                    }
                }
                #expect(ours == reference, "length \(length), offset \(offset)")
            }
        }
    }

    @Test func zeroCheckSeesASingleSetBitAnywhere() {
        for length in 0..<40 {
            var bytes = [UInt8](repeating: 0, count: length)
            #expect(bytes.withUnsafeBytes { XORKernel.isZero($0) })
            for i in 0..<length {
                bytes[i] = 0x10
                #expect(!bytes.withUnsafeBytes { XORKernel.isZero($0) })
                bytes[i] = 0
            }
        }
    }
}
