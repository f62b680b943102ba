/** @file test_port_posix.c  Signals in the POSIX port: a signal that
 * arrives before port_poll() goes to sleep must wake it at once.
 *
 * loop_run() takes the signal flags after port_poll() returns and then
 * sleeps in port_poll() again; a signal landing between the two must not
 * wait for the next socket event or timer (with no timer armed, forever).
 * Raising the signal just before port_poll() is that window, made
 * deterministic.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "port.h"

/* Long enough that a missed signal is plain, short enough to end. */
#define SLEEP_MS 3000
#define PROMPT_MS 500

/* Milliseconds port_poll(timeout_ms) took; it returns 0 or EINTR. */
static uint32_t poll_ms(int timeout_ms)
{
	uint32_t t0 = port_now_ms();
	int err = port_poll(timeout_ms);

	assert_true(err == 0 || err == EINTR);
	return port_now_ms() - t0;
}

/* A fresh port with no signal left over from a failed test. */
static int setup(void **state)
{
	int err = port_init();

	(void)state;
	if (!err) {
		port_poll(0);
		port_signals_take();
	}
	return err;
}

static int teardown(void **state)
{
	(void)state;
	port_close_all();
	return 0;
}

static void expect_prompt(int sig, unsigned flag)
{
	assert_int_equal(kill(getpid(), sig), 0);
	assert_in_range(poll_ms(SLEEP_MS), 0, PROMPT_MS);
	assert_int_equal(port_signals_take(), flag);
	assert_int_equal(port_signals_take(), 0);
}

static void test_term_before_poll(void **state)
{
	(void)state;
	expect_prompt(SIGTERM, PORT_SIG_TERM);
}

static void test_int_before_poll(void **state)
{
	(void)state;
	expect_prompt(SIGINT, PORT_SIG_TERM);
}

static void test_hup_before_poll(void **state)
{
	(void)state;
	expect_prompt(SIGHUP, PORT_SIG_HUP);
}

/* Two signals before one poll: both flags, once. */
static void test_two_before_poll(void **state)
{
	(void)state;
	assert_int_equal(kill(getpid(), SIGHUP), 0);
	assert_int_equal(kill(getpid(), SIGTERM), 0);
	assert_in_range(poll_ms(SLEEP_MS), 0, PROMPT_MS);
	assert_int_equal(port_signals_take(), PORT_SIG_TERM | PORT_SIG_HUP);
	assert_int_equal(port_signals_take(), 0);
}

/* A signal while asleep wakes the poll too. */
static void test_term_during_poll(void **state)
{
	struct timespec ts = {0, 100 * 1000 * 1000};
	pid_t parent = getpid(), child;
	int st = 0;

	(void)state;
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		nanosleep(&ts, NULL);
		kill(parent, SIGTERM);
		_exit(0);
	}
	assert_in_range(poll_ms(SLEEP_MS), 0, PROMPT_MS + 100);
	assert_int_equal(port_signals_take(), PORT_SIG_TERM);
	assert_int_equal(waitpid(child, &st, 0), child);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* No signal: the poll sleeps its time and reports nothing. */
static void test_no_signal_sleeps(void **state)
{
	(void)state;
	assert_in_range(poll_ms(100), 90, 100 + PROMPT_MS);
	assert_int_equal(port_signals_take(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_term_before_poll, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_int_before_poll, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_hup_before_poll, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_two_before_poll, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_term_during_poll, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_no_signal_sleeps, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
