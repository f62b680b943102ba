/** @file rate.h  Events per source address within a window: how often
 * each address did something (failed to authenticate, began a TLS
 * handshake) in the last window_s seconds, so that one past max can be
 * refused until its window ends. IPv4 counts by address, IPv6 by /64
 * (one host holds a whole /64). A fixed table: when it is full, an entry
 * whose window is over goes, else the one with the fewest events (the
 * oldest of those), so that a flood of single events from many addresses
 * never frees one that is refused.
 */
#ifndef CORE_RATE_H
#define CORE_RATE_H

#include <stdint.h>

#include "port.h"
#include "sd_hash.h"

struct rate_ent {
	UT_hash_handle hh;
	uint8_t key[17];	/* family, address or /64 */
	uint32_t since_s;	/* first event of the window */
	unsigned count;
};

struct rate {
	struct rate_ent *tab, *by_key;
	unsigned n;		/* entries in tab */
	uint32_t window_s;
	unsigned max;		/* refused at this many; 0: never */
};

/** A table of n entries (from the memory budget). @return 0 or ENOMEM. */
int rate_init(struct rate *r, unsigned n, uint32_t window_s, unsigned max);
void rate_free(struct rate *r);
/** Has a had max events in its window (at now_s)? */
int rate_refused(struct rate *r, const struct port_addr *a, uint32_t now_s);
/** One more event of a. */
void rate_count(struct rate *r, const struct port_addr *a, uint32_t now_s);

#endif
