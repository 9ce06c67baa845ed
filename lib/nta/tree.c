// SPDX-License-Identifier: MIT
/*
 * tree.c - the AVL tree of pages, keyed by page address (the seed's index).
 *
 * Every page of the area is a node for the life of the nta object, so the tree
 * only needs insert (at creation), lookup (a freed address masked to its page)
 * and a verifier. Nodes are u32 indices into parallel arrays rather than
 * pointers: 9 bytes per page instead of 24, which is what keeps the fixed
 * metadata under 1% of the area. A node's key is not stored; it follows from the
 * node index (see struct nta_tree), which also makes the keys of a well-formed
 * tree impossible to corrupt. Insert and lookup are iterative and bounded by the
 * AVL height limit, NTA_TREE_MAX_HEIGHT.
 */
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"

int nta_tree_init(struct nta_tree *t, uint32_t cap, uint32_t split, uint32_t shift0,
		  uint64_t base1, uint32_t shift1)
{
	*t = (struct nta_tree){ .root = NTA_NIL, .cap = cap, .split = split,
				.shift0 = shift0, .shift1 = shift1, .base1 = base1 };
	if (!cap || cap == NTA_NIL)
		return -EINVAL;
	t->left = malloc(sizeof(*t->left) * cap);
	t->right = malloc(sizeof(*t->right) * cap);
	t->bal = malloc(sizeof(*t->bal) * cap);
	if (!t->left || !t->right || !t->bal) {
		nta_tree_fini(t);
		return -ENOMEM;
	}
	return 0;
}

void nta_tree_fini(struct nta_tree *t)
{
	free(t->left);
	free(t->right);
	free(t->bal);
	t->left = t->right = NULL;
	t->bal = NULL;
}

static uint32_t *child(struct nta_tree *t, uint32_t node, int dir)
{
	return dir ? &t->right[node] : &t->left[node];
}

/* Restore balance at p whose balance reached +-2 after an insert below it; returns
 * the new root of the subtree. In an insert the heavy child is never balanced. */
static uint32_t rebalance(struct nta_tree *t, uint32_t p)
{
	int dir = t->bal[p] > 0;           /* the heavy side */
	int sign = dir ? 1 : -1;
	uint32_t c = *child(t, p, dir), g;

	if (t->bal[c] == sign) { /* single rotation */
		*child(t, p, dir) = *child(t, c, !dir);
		*child(t, c, !dir) = p;
		t->bal[p] = t->bal[c] = 0;
		return c;
	}
	/* double rotation through the inner grandchild g */
	g = *child(t, c, !dir);
	*child(t, p, dir) = *child(t, g, !dir);
	*child(t, c, !dir) = *child(t, g, dir);
	*child(t, g, !dir) = p;
	*child(t, g, dir) = c;
	t->bal[p] = t->bal[g] == sign ? (int8_t)-sign : 0;
	t->bal[c] = t->bal[g] == -sign ? (int8_t)sign : 0;
	t->bal[g] = 0;
	return g;
}

int nta_tree_insert(struct nta_tree *t, uint32_t x)
{
	uint32_t path[NTA_TREE_MAX_HEIGHT];
	uint8_t dirs[NTA_TREE_MAX_HEIGHT];
	uint64_t k;
	uint32_t cur = t->root;
	int depth = 0;

	if (x >= t->cap)
		return -EINVAL;
	k = nta_tree_key(t, x);
	/* bound: the height of the tree */
	while (cur != NTA_NIL) {
		uint64_t ck = nta_tree_key(t, cur);

		if (k == ck)
			return -EEXIST;
		if (depth == NTA_TREE_MAX_HEIGHT)
			return -EUCLEAN;
		path[depth] = cur;
		dirs[depth] = k > ck;
		cur = *child(t, cur, dirs[depth]);
		depth++;
	}
	t->left[x] = t->right[x] = NTA_NIL;
	t->bal[x] = 0;
	t->n++;
	if (!depth) {
		t->root = x;
		return 0;
	}
	*child(t, path[depth - 1], dirs[depth - 1]) = x;
	/* retrace: stop where the subtree height did not change. Bound: depth. */
	for (int i = depth - 1; i >= 0; i--) {
		uint32_t p = path[i], sub;

		t->bal[p] = (int8_t)(t->bal[p] + (dirs[i] ? 1 : -1));
		if (t->bal[p] == 0)
			break;
		if (t->bal[p] == 1 || t->bal[p] == -1)
			continue;
		sub = rebalance(t, p);
		if (i == 0)
			t->root = sub;
		else
			*child(t, path[i - 1], dirs[i - 1]) = sub;
		break;
	}
	return 0;
}

uint32_t nta_tree_lookup(const struct nta_tree *t, uint64_t key)
{
	uint32_t cur = t->root;

	/* bound: the height of the tree (nta_tree_verify checks it) */
	while (cur != NTA_NIL) {
		uint64_t ck = nta_tree_key(t, cur);

		if (key == ck)
			return cur;
		cur = key < ck ? t->left[cur] : t->right[cur];
	}
	return NTA_NIL;
}

struct verify {
	const struct nta_tree *t;
	uint32_t seen;
	char *why;
	size_t len;
};

/* Height of the subtree at node with all keys in (lo, hi), or -1 after writing
 * the reason. Recursion depth bounded by NTA_TREE_MAX_HEIGHT. */
static int verify_node(struct verify *v, uint32_t node, int depth, uint64_t lo, bool has_lo,
		       uint64_t hi, bool has_hi)
{
	const struct nta_tree *t = v->t;
	int hl, hr;
	uint64_t k;

	if (node == NTA_NIL)
		return 0;
	if (node >= t->cap || depth >= NTA_TREE_MAX_HEIGHT || ++v->seen > t->n) {
		snprintf(v->why, v->len, "tree: node %u out of range, too deep or seen twice", node);
		return -1;
	}
	k = nta_tree_key(t, node);
	if ((has_lo && k <= lo) || (has_hi && k >= hi)) {
		snprintf(v->why, v->len, "tree: node %u key 0x%llx out of order", node,
			 (unsigned long long)k);
		return -1;
	}
	hl = verify_node(v, t->left[node], depth + 1, lo, has_lo, k, true);
	if (hl < 0)
		return -1;
	hr = verify_node(v, t->right[node], depth + 1, k, true, hi, has_hi);
	if (hr < 0)
		return -1;
	if (hr - hl != t->bal[node] || hr - hl > 1 || hl - hr > 1) {
		snprintf(v->why, v->len, "tree: node %u balance %d, heights %d/%d", node,
			 t->bal[node], hl, hr);
		return -1;
	}
	return (hl > hr ? hl : hr) + 1;
}

int nta_tree_verify(const struct nta_tree *t, char *why, size_t len)
{
	struct verify v = { .t = t, .why = why, .len = len };

	if (verify_node(&v, t->root, 0, 0, false, 0, false) < 0)
		return -EUCLEAN;
	if (v.seen != t->n) {
		snprintf(why, len, "tree: %u nodes reachable, %u inserted", v.seen, t->n);
		return -EUCLEAN;
	}
	return 0;
}
