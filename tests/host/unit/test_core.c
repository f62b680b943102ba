/** @file test_core.c  Timers (with the 32-bit wrap), pools, budget,
 * counts per key. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <osipparser2/osip_port.h>

#include "loop.h"
#include "mem.h"
#include "pool.h"
#include "port_sim.h"
#include "sd.h"
#include "strs.h"
#include "tally.h"
#include "tmr.h"

static char order[16];
static size_t norder;

static void fire(void *arg)
{
	order[norder++] = *(const char *)arg;
}

static void test_timers_order_and_wrap(void **state)
{
	struct tmr a = {0}, b = {0}, c = {0}, d = {0};

	(void)state;
	sim_reset(UINT32_MAX - 50); /* every timer crosses the wrap */
	norder = 0;
	tmr_start(&a, 300, fire, "a");
	tmr_start(&b, 100, fire, "b");
	tmr_start(&c, 200, fire, "c");
	tmr_start(&d, 100, fire, "d");
	assert_int_equal(tmr_count(), 4);
	assert_int_equal(tmr_next_ms(), 100);
	tmr_cancel(&c);
	tmr_cancel(&c); /* idempotent */
	loop_once(99);
	assert_int_equal(norder, 0);
	loop_once(1);
	assert_int_equal(norder, 2);
	/* Equal deadlines fire in the order they were armed. */
	assert_memory_equal(order, "bd", 2);
	loop_once(1000);
	assert_memory_equal(order, "bda", 3);
	assert_int_equal(tmr_count(), 0);
	assert_int_equal(tmr_next_ms(), -1);
	assert_true(tmr_before(UINT32_MAX - 1, 5));
	assert_false(tmr_before(5, UINT32_MAX - 1));
}

static void test_pool_limits(void **state)
{
	void *e[4];

	(void)state;
	static struct pool test_pool = POOL_INIT("test", 8, 3);

	assert_int_equal(pool_setup(&test_pool, 40), 0);
	assert_int_equal(pool_setup(&test_pool, 40), EINVAL);
	e[0] = pool_get(&test_pool);
	e[1] = pool_get(&test_pool);
	e[2] = pool_get(&test_pool);
	assert_non_null(e[2]);
	assert_null(pool_get(&test_pool));
	assert_int_equal(pool_info(&test_pool)->fails, 1);
	assert_int_equal(pool_info(&test_pool)->used, 3);
	pool_put(&test_pool, e[1]);
	e[3] = pool_get(&test_pool);
	assert_ptr_equal(e[3], e[1]);
	assert_int_equal(pool_info(&test_pool)->peak, 3);
	pool_put(&test_pool, e[0]);
	pool_put(&test_pool, e[2]);
	pool_put(&test_pool, e[3]);
	assert_int_equal(pool_info(&test_pool)->used, 0);
	pool_release(&test_pool);
}

static void test_budget(void **state)
{
	void *p, *q;

	(void)state;
	mem_set_budget(1000);
	p = mem_alloc(500);
	assert_non_null(p);
	assert_null(mem_alloc(600));
	assert_int_equal(mem_fails(), 1);
	q = mem_alloc(100);
	assert_non_null(q);
	mem_put(p);
	mem_put(q);
	assert_int_equal(mem_used(), 0);
	assert_int_equal(mem_blocks(), 0);
	mem_fail_nth(2);
	p = mem_alloc(1);
	assert_non_null(p);
	assert_null(mem_alloc(1));
	q = mem_alloc(1);
	assert_non_null(q);
	mem_put(p);
	mem_put(q);
}

/* Counts per key: the cap, nobody (""), the pool, an entry only while
 * its count is above zero, a long key kept as its hash. */
/* A bump arena: blocks carved in order, aligned, within the budget; a put
 * of one does nothing; a grown one keeps its bytes; the release gives
 * back every chunk. */
static void test_bump_arena(void **state)
{
	char first[100];
	struct mem_arena a = {0}, *prev;
	char *p[40], *q;
	unsigned i;

	(void)state;
	mem_osip_install(); /* osip_realloc() is mem.c's hook */
	mem_set_budget(4096);
	mem_arena_bump(&a, first, sizeof(first), 256);
	prev = mem_arena_enter(&a);
	p[0] = mem_alloc(10);
	/* The first region is used before any chunk is taken. */
	assert_true(p[0] >= first && p[0] + 10 <= first + sizeof(first));
	assert_int_equal(mem_blocks(), 0);
	for (i = 1; i < 40; i++) {
		p[i] = mem_alloc(i);
		assert_non_null(p[i]);
		assert_int_equal((uintptr_t)p[i] % _Alignof(max_align_t), 0);
		memset(p[i], (int)i, i);
	}
	for (i = 1; i < 40; i++) {
		assert_int_equal((unsigned char)p[i][i - 1], i);
	}
	mem_put(p[5]); /* nothing: it goes with the arena */
	assert_int_equal((unsigned char)p[5][0], 5);
	q = osip_realloc(p[39], 300); /* larger than a chunk */
	assert_non_null(q);
	assert_memory_equal(q, p[39], 39);
	/* The budget refuses a chunk it cannot hold, counted as the arena's. */
	assert_null(mem_alloc(5000));
	assert_int_equal(a.failed, 1);
	mem_arena_leave(prev);
	assert_true(mem_used() > 0);
	assert_true(mem_arena_release(&a) >= 2);
	assert_int_equal(mem_used(), 0);
	assert_int_equal(mem_blocks(), 0);
}

/* The string arena: copies in classes, the empty string free, a freed
 * slot reused, a smaller string taking a larger free slot when the arena
 * is spent, NULL (counted) past it, equal strs_set() a no-op. */
static void test_string_arena(void **state)
{
	struct strs a;
	char *s[8], *t, *keep, uri[51];
	unsigned i;

	(void)state;
	assert_int_equal(strs_slot(14), 16);
	assert_int_equal(strs_slot(15), 24);
	assert_int_equal(strs_slot(STRS_MAX_LEN), 4096);
	assert_int_equal(strs_slot(STRS_MAX_LEN + 1), 0);
	assert_int_equal(strs_room(14), 16);
	assert_int_equal(strs_room(15), 16 + 24);
	/* 50 characters: a 64-byte slot each. */
	memset(uri, 'u', 50);
	uri[50] = '\0';
	assert_int_equal(strs_slot(strlen(uri)), 64);
	assert_int_equal(strs_setup(&a, "test", 4 * 64), 0);
	for (i = 0; i < 4; i++) {
		s[i] = strs_dup(&a, uri);
		assert_non_null(s[i]);
		assert_string_equal(s[i], uri);
	}
	assert_int_equal(a.used, 4 * 64);
	assert_null(strs_dup(&a, "x"));
	assert_int_equal(a.fails, 1);
	t = strs_dupn(&a, "", 0);
	assert_non_null(t);
	assert_string_equal(t, "");
	strs_put(&a, t);
	/* A freed slot comes back; a short string takes a larger one. */
	strs_put(&a, s[1]);
	t = strs_dup(&a, "tag");
	assert_ptr_equal(t, s[1]);
	assert_int_equal(a.used, 4 * 64);
	strs_put(&a, t);
	strs_put(&a, s[2]);
	keep = s[3];
	assert_int_equal(strs_set(&a, &s[3], keep), 0);
	assert_ptr_equal(s[3], keep);
	assert_int_equal(strs_set(&a, &s[3], "bob@example.test"), 0);
	assert_string_equal(s[3], "bob@example.test");
	/* A copy stops at a NUL inside the bytes asked for. */
	s[4] = strs_dupn(&a, "ab\0cd", 5);
	assert_string_equal(s[4], "ab");
	strs_put(&a, s[0]);
	strs_put(&a, s[3]);
	strs_put(&a, s[4]);
	assert_int_equal(a.used, 0);
	strs_release(&a);
}

/* Strings of every length up to 200 come and go, eight at a time, in an
 * arena sized with strs_room(200) for eight: none is ever refused,
 * however the lengths follow each other (freed slots of one class cannot
 * hold a longer string). */
static void test_string_arena_churn(void **state)
{
	static const size_t lens[] = {3, 200, 20, 150, 60, 200, 5, 100, 40,
				       200, 14, 15, 190, 1, 120};
	char text[201], *s[8];
	struct strs a;
	unsigned r, i;

	(void)state;
	memset(text, 'c', sizeof(text) - 1);
	text[200] = '\0';
	assert_int_equal(strs_setup(&a, "churn", 8 * strs_room(200)), 0);
	for (r = 0; r < 3 * sizeof(lens) / sizeof(lens[0]); r++) {
		size_t l = lens[r % (sizeof(lens) / sizeof(lens[0]))];

		for (i = 0; i < 8; i++) {
			/* the longer ones first in odd rounds */
			s[i] = strs_dupn(&a, text, r % 2 ? l - (l > i ? i : 0) :
					 l);
			assert_non_null(s[i]);
		}
		for (i = 0; i < 8; i++) {
			strs_put(&a, s[i]);
		}
	}
	assert_int_equal(a.fails, 0);
	assert_int_equal(a.used, 0);
	strs_release(&a);
}

static void test_tally(void **state)
{
	static struct pool p = POOL_INIT("tally", 8, 2);
	struct tally t = TALLY_INIT(&p);
	struct tally_ent *a[3], *b, *c, *none;
	char longkey[200];

	(void)state;
	mem_set_budget(1u << 16);
	assert_int_equal(pool_setup(&p, sizeof(struct tally_ent)), 0);
	assert_int_equal(tally_get(&t, "10.0.0.3", 2, &a[0]), 0);
	assert_int_equal(tally_get(&t, "10.0.0.3", 2, &a[1]), 0);
	assert_ptr_equal(a[0], a[1]);
	assert_int_equal(tally_get(&t, "10.0.0.3", 2, &a[2]), EDQUOT);
	assert_null(a[2]);
	assert_int_equal(tally_get(&t, "10.0.0.3", 0, &a[2]), 0); /* no cap */
	assert_int_equal(tally_count(&t, "10.0.0.3"), 3);
	assert_int_equal(tally_get(&t, "", 1, &none), 0);
	assert_null(none);
	assert_int_equal(tally_count(&t, ""), 0);
	memset(longkey, 'k', sizeof(longkey) - 1);
	longkey[sizeof(longkey) - 1] = '\0';
	assert_int_equal(tally_get(&t, longkey, 1, &b), 0);
	assert_int_equal(tally_count(&t, longkey), 1);
	longkey[0] = 'j';
	assert_int_equal(tally_count(&t, longkey), 0);
	assert_int_equal(tally_get(&t, "10.0.0.4", 1, &c), ENOSPC); /* pool */
	tally_put(&t, b);
	assert_int_equal(tally_get(&t, "10.0.0.4", 1, &c), 0);
	tally_put(&t, a[0]);
	tally_put(&t, a[1]);
	assert_int_equal(tally_count(&t, "10.0.0.3"), 1);
	tally_put(&t, a[2]);
	tally_put(&t, NULL);
	assert_int_equal(tally_count(&t, "10.0.0.3"), 0);
	assert_int_equal(pool_info(&p)->used, 1);
	tally_clear(&t);
	assert_int_equal(pool_info(&p)->used, 0);
	pool_release(&p);
	assert_int_equal(mem_used(), 0);
}

static void test_buf_and_slices(void **state)
{
	char small[8];
	struct sd_buf b;
	uint32_t v;

	(void)state;
	sd_buf_init(&b, small, sizeof(small));
	sd_buf_str(&b, "abc");
	sd_buf_printf(&b, "%d", 1234);
	assert_false(b.overflow);
	assert_string_equal(small, "abc1234");
	sd_buf_str(&b, "x");
	assert_true(b.overflow);
	assert_int_equal(sd_pl_u32(sd_pl_str("4294967295"), &v), 0);
	assert_int_equal(v, UINT32_MAX);
	assert_int_not_equal(sd_pl_u32(sd_pl_str("4294967296"), &v), 0);
	assert_int_not_equal(sd_pl_u32(sd_pl_str("12a"), &v), 0);
	assert_int_equal(sd_pl_casecmp(sd_pl_str("Call-ID"), "call-id"), 0);
	/* 64-bit numbers (History-Id), their bounds. */
	{
		uint64_t w;
		struct port_addr ad = {PORT_AF_INET, 5060, {255, 0, 10, 9}};
		char ip[48];

		assert_int_equal(sd_pl_u64(sd_pl_str("18446744073709551615"),
					   &w), 0);
		assert_true(w == UINT64_MAX);
		assert_int_equal(sd_pl_u64(sd_pl_str("18446744073709551616"),
					   &w), ERANGE);
		assert_int_equal(sd_pl_u64(sd_pl_str(""), &w), EINVAL);
		/* IPv4 written without inet_ntop, IPv6 with it. */
		sd_addr_ip_str(&ad, ip, sizeof(ip));
		assert_string_equal(ip, "255.0.10.9");
		memset(&ad, 0, sizeof(ad));
		ad.family = PORT_AF_INET6;
		ad.ip[15] = 1;
		sd_addr_ip_str(&ad, ip, sizeof(ip));
		assert_string_equal(ip, "::1");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timers_order_and_wrap),
		cmocka_unit_test(test_pool_limits),
		cmocka_unit_test(test_budget),
		cmocka_unit_test(test_bump_arena),
		cmocka_unit_test(test_string_arena),
		cmocka_unit_test(test_string_arena_churn),
		cmocka_unit_test(test_tally),
		cmocka_unit_test(test_buf_and_slices),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
