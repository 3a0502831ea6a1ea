#ifndef SDWAN_CSODIUM_SHIM_H
#define SDWAN_CSODIUM_SHIM_H
#include <sodium.h>
#endif
