/* SPDX-License-Identifier: MIT */
/*
 * testing.h - nta_opts.flags for tests and benchmarks only.
 *
 * They switch off what nta relies on for speed, to measure what it buys and to
 * check the slower paths against the fast ones; nothing in ntad needs them, so
 * they are not in the public header. Tests and benchmarks build with -Ilib/nta.
 */
#ifndef NTA_TESTING_H
#define NTA_TESTING_H

/* Look pages up in the AVL tree on every free instead of the direct page array
 * (nta_check verifies that both agree either way). */
#define NTA_F_TREE_LOOKUP (1u << 0)
/* No front cache: every free of a cache_len region goes back to the lists. */
#define NTA_F_NO_CACHE (1u << 1)

#endif /* NTA_TESTING_H */
