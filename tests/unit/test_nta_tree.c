// SPDX-License-Identifier: MIT
/*
 * test_nta_tree.c - the AVL page tree (tree.c) on its own.
 *
 * Inserts the nodes of a two-zone layout in random and in sorted order, verifies
 * the AVL invariants after every insert, looks up every page address and
 * addresses that are not pages, checks the height bound and that the verifier
 * rejects a broken tree.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"
#include "check.h"

static int height(const struct nta_tree *t, uint32_t n)
{
	int l, r;

	if (n == NTA_NIL)
		return 0;
	l = height(t, t->left[n]);
	r = height(t, t->right[n]);
	return (l > r ? l : r) + 1;
}

static void run(uint32_t n0, uint32_t n1, int shuffle, int verify_each)
{
	struct nta_tree t;
	uint32_t n = n0 + n1, *order = malloc(sizeof(*order) * n);
	uint64_t base1 = (uint64_t)n0 << 12;
	char why[160];

	CHECK(nta_tree_init(&t, n, n0, 12, base1, 14) == 0);
	for (uint32_t i = 0; i < n; i++)
		order[i] = i;
	for (uint32_t i = n - 1; shuffle && i > 0; i--) {
		uint32_t k = (uint32_t)rand() % (i + 1), x = order[i];

		order[i] = order[k];
		order[k] = x;
	}
	for (uint32_t i = 0; i < n; i++) {
		CHECK(nta_tree_insert(&t, order[i]) == 0);
		if (verify_each && nta_tree_verify(&t, why, sizeof(why))) {
			printf("after inserting %u: %s\n", order[i], why);
			failures++;
			break;
		}
	}
	CHECK(nta_tree_verify(&t, why, sizeof(why)) == 0);
	CHECK(nta_tree_insert(&t, order[0]) == -EEXIST);
	CHECK(nta_tree_insert(&t, n) == -EINVAL);
	CHECK(height(&t, t.root) <= 1.4405 * log2(n + 2.0));
	for (uint32_t i = 0; i < n; i++) {
		uint64_t key = nta_tree_key(&t, i);

		CHECK(nta_tree_lookup(&t, key) == i);
		CHECK(nta_tree_lookup(&t, key + 32) == NTA_NIL); /* inside the page */
	}
	CHECK(nta_tree_lookup(&t, base1 + ((uint64_t)n1 << 14)) == NTA_NIL);
	/* keys: zone 0 every 4 KiB, zone 1 every 16 KiB after it */
	if (n1)
		CHECK(nta_tree_key(&t, n0 + 1) == base1 + 16384);
	/* a broken tree is caught: swap two children */
	if (n > 2) {
		uint32_t r = t.root, x = t.left[r];

		t.left[r] = t.right[r];
		t.right[r] = x;
		CHECK(nta_tree_verify(&t, why, sizeof(why)) == -EUCLEAN);
	}
	nta_tree_fini(&t);
	free(order);
}

int main(void)
{
	srand(7);
	run(1, 0, 0, 1);
	run(2, 0, 0, 1);
	run(3, 0, 1, 1);
	run(100, 0, 1, 1);
	run(1000, 37, 1, 1);
	run(1000, 37, 0, 1);
	run(200000, 5000, 1, 0);
	run(200000, 5000, 0, 0);
	return check_done("test_nta_tree");
}
