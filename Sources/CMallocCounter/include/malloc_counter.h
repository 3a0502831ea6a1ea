#ifndef SDWAN_MALLOC_COUNTER_H
#define SDWAN_MALLOC_COUNTER_H
#include <stdint.h>
/// Number of malloc, calloc and realloc calls in this process so far (sdwan-bench only).
uint64_t sdwan_malloc_count(void);
#endif
