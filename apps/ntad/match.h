/* SPDX-License-Identifier: MIT */
/*
 * match.h - --filter rules (struct ntad_rule) evaluated in user space on a
 * frame's headers, with the XDP program's semantics (bpf/ntad.bpf.c), for
 * capture mode's --trigger.
 */
#ifndef NTAD_MATCH_H
#define NTAD_MATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "ntad_bpf.h"

/* Does the frame [p, p + len) match any of rules[0..n)? (n == 0: no.) */
bool ntad_rules_match(const struct ntad_rule *rules, uint32_t n, const uint8_t *p, uint32_t len);

#endif /* NTAD_MATCH_H */
