#include "cxor.h"

// The loop as anyone would write it; the compiler is free to vectorise it (same release build,
// same flags as the Swift code it is compared with).
void cxor_into(uint8_t *accumulator, const uint8_t *source, size_t count) {
    for (size_t i = 0; i < count; i++) {
        accumulator[i] ^= source[i];
    }
}
