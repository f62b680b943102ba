/** @file test_core.c  Timers (with the 32-bit wrap), pools, budget. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "loop.h"
#include "mem.h"
#include "pool.h"
#include "port_sim.h"
#include "sd.h"
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
	mem_init(1000);
	p = mem_alloc(500);
	assert_non_null(p);
	assert_null(mem_alloc(600));
	assert_int_equal(mem_fails(), 1);
	q = mem_alloc(100);
	assert_non_null(q);
	mem_free(p);
	mem_free(q);
	assert_int_equal(mem_used(), 0);
	assert_int_equal(mem_blocks(), 0);
	mem_fail_nth(2);
	p = mem_alloc(1);
	assert_non_null(p);
	assert_null(mem_alloc(1));
	q = mem_alloc(1);
	assert_non_null(q);
	mem_free(p);
	mem_free(q);
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
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timers_order_and_wrap),
		cmocka_unit_test(test_pool_limits),
		cmocka_unit_test(test_budget),
		cmocka_unit_test(test_buf_and_slices),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
