// A plain C XOR loop: the baseline the Swift XOR kernel is measured against (sdwan-bench fec).
#ifndef CXOR_H
#define CXOR_H

#include <stddef.h>
#include <stdint.h>

/// accumulator[i] ^= source[i] for i < count.
void cxor_into(uint8_t *accumulator, const uint8_t *source, size_t count);

#endif
