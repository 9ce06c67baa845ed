// SPDX-License-Identifier: GPL-2.0
/*
 * txq_by_sport.bpf.c - tc egress program for the multi-queue tests: put an
 * IPv4 UDP frame with source port 47000 + Q on transmit queue Q.
 *
 * veth delivers a frame to the peer's rx queue with the index of the tx queue
 * it was sent on, so this is how a test running an AF_PACKET sender reaches
 * every receive queue of ntad's interface (tc's skbedit and mqprio are not
 * built into this kernel). queue_mapping is written as Q + 1: the kernel reads
 * a non-zero mapping as a recorded queue, and skb_tx_hash then picks Q when no
 * XPS map is set (veth sets none).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define SPORT_BASE 47000
#define MAX_QUEUES 64

SEC("tc")
int txq_by_sport(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *udp = (void *)(ip + 1);
	__u32 q;

	if ((void *)(udp + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP) ||
	    ip->protocol != IPPROTO_UDP || ip->ihl != 5)
		return TC_ACT_OK;
	q = bpf_ntohs(udp->source) - SPORT_BASE;
	if (q < MAX_QUEUES)
		skb->queue_mapping = q + 1;
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
