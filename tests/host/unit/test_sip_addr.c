/** @file test_sip_addr.c  SIP addresses as configured and as contacts give
 * them: listen specs, the outbound proxy, next hops and contact flows.
 * The expected texts and results were taken from the three parsers these
 * forms had before they shared one, so that sharing changed nothing.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"
#include "sip.h"

#define LONG_HOST "a123456789b123456789c123456789d123456789" \
		  "e123456789f123456789g123"

struct check_case {
	const char *in;
	int err;
	const char *why;	/* the whole message, "" when accepted */
};

static void run_checks(const struct check_case *c, size_t n,
		       int (*check)(const char *, char *, size_t))
{
	size_t i;

	for (i = 0; i < n; i++) {
		char why[200] = "";
		int err = check(c[i].in, why, sizeof(why));

		if (err != c[i].err || strcmp(why, c[i].why)) {
			fail_msg("'%s': got %d '%s', want %d '%s'", c[i].in,
				 err, why, c[i].err, c[i].why);
		}
	}
}

/* A good tls: spec, refused by a build without TLS. */
#ifdef CONFIG_SIMPLED_TLS
#define TLS_SPEC(s) {s, 0, ""}
#else
#define TLS_SPEC(s) {s, EINVAL, "listen '" s "': this build has no TLS " \
		     "(CONFIG_SIMPLED_TLS)"}
#endif

static void test_listen_specs(void **state)
{
	static const struct check_case cases[] = {
		{"udp:127.0.0.1:5060", 0, ""},
		{"tcp:[::1]:5060", 0, ""},
		{"udp:::1:5060", 0, ""},
		{"udp:[1.2.3.4]:5060", 0, ""},
		{"udp:1.2.3.4:0", 0, ""},
		/* strtoul() leniency, kept as it was */
		{"udp:1.2.3.4: 5060", 0, ""},
		/* Interface names: the address they have. */
		{"udp:br-lan:5060", 0, ""},
		{"tcp:eth0.1:5060", 0, ""},
		{"udp:wan_6:0", 0, ""},
		{"udp:br-lan:99999", EINVAL, "listen 'udp:br-lan:99999': bad "
		 "port"},
		{"udp:eth0.:5060", EINVAL, "listen 'udp:eth0.:5060': 'eth0.' "
		 "is neither an IP address nor an interface name"},
		{"udp:abcdefghijklmnop:5060", EINVAL, "listen "
		 "'udp:abcdefghijklmnop:5060': 'abcdefghijklmnop' is neither "
		 "an IP address nor an interface name"},
		{"udp:1.2.3.4:+5060", 0, ""},
		{"UDP:1.2.3.4:5060", EINVAL, "listen 'UDP:1.2.3.4:5060': "
		 "transport must be udp:, tcp: or tls:"},
		{"sctp:1.2.3.4:5060", EINVAL, "listen 'sctp:1.2.3.4:5060': "
		 "transport must be udp:, tcp: or tls:"},
		{"udp", EINVAL, "listen 'udp': transport must be udp:, tcp: or tls:"},
		{"sctp:x", EINVAL, "listen 'sctp:x': transport must be udp:, "
		 "tcp: or tls:"},
		TLS_SPEC("tls:127.0.0.1:5061"),
		TLS_SPEC("tls:[::1]:0"),
		{"tls:127.0.0.1", EINVAL, "listen 'tls:127.0.0.1': expected "
		 "ADDR:PORT"},
		{"TLS:127.0.0.1:5061", EINVAL, "listen 'TLS:127.0.0.1:5061': "
		 "transport must be udp:, tcp: or tls:"},
		{"udp:1.2.3.4", EINVAL, "listen 'udp:1.2.3.4': expected "
		 "ADDR:PORT"},
		{"udp:[::1]", EINVAL, "listen 'udp:[::1]': expected ADDR:PORT"},
		{"udp:" LONG_HOST ":5060", EINVAL, "listen 'udp:" LONG_HOST
		 ":5060': address too long"},
		{"udp:" LONG_HOST ":99999", EINVAL, "listen 'udp:" LONG_HOST
		 ":99999': address too long"},
		{"udp:1.2.3.4:", EINVAL, "listen 'udp:1.2.3.4:': bad port"},
		{"udp:1.2.3.4:99999", EINVAL, "listen 'udp:1.2.3.4:99999': "
		 "bad port"},
		{"udp:1.2.3.4:50x", EINVAL, "listen 'udp:1.2.3.4:50x': bad "
		 "port"},
		{"udp:host.lan:99999", EINVAL, "listen 'udp:host.lan:99999': "
		 "bad port"},
		{"udp:host.lan:5060", EINVAL, "listen 'udp:host.lan:5060': "
		 "'host.lan' is neither an IP address nor an interface name"},
		{"udp::5060", EINVAL, "listen 'udp::5060': '' is neither an IP "
		 "address nor an interface name"},
		{"udp:[::1:5060", EINVAL, "listen 'udp:[::1:5060': '[::1' is "
		 "neither an IP address nor an interface name"},
	};

	(void)state;
	run_checks(cases, sizeof(cases) / sizeof(cases[0]), sip_listen_check);
}

static void test_proxy_uris(void **state)
{
	static const struct check_case cases[] = {
		{"", 0, ""},
		{"sip:192.0.2.1", 0, ""},
		{"SIP:192.0.2.1", 0, ""},
		{"sip:192.0.2.1:5080;transport=tcp", 0, ""},
		{"sip:[::1]:5080;TRANSPORT=TCP", 0, ""},
		{"sip:[::1]", 0, ""},
		{"sip:192.0.2.1:+5080", 0, ""},
		{"http://x", EINVAL, "outbound_proxy 'http://x': must start "
		 "with sip:"},
		{"sip:", EINVAL, "outbound_proxy 'sip:': bad host"},
		{"sip:::1", EINVAL, "outbound_proxy 'sip:::1': bad host"},
		{"sip:;transport=sctp", EINVAL, "outbound_proxy "
		 "'sip:;transport=sctp': bad host"},
		{"sip:" LONG_HOST, EINVAL, "outbound_proxy 'sip:" LONG_HOST
		 "': bad host"},
		{"sip:1.2.3.4:", EINVAL, "outbound_proxy 'sip:1.2.3.4:': bad "
		 "port"},
		{"sip:1.2.3.4:0", EINVAL, "outbound_proxy 'sip:1.2.3.4:0': "
		 "bad port"},
		{"sip:1.2.3.4:70000", EINVAL, "outbound_proxy "
		 "'sip:1.2.3.4:70000': bad port"},
		{"sip:1.2.3.4:99999;transport=sctp", EINVAL, "outbound_proxy "
		 "'sip:1.2.3.4:99999;transport=sctp': bad port"},
		/* simpled opens no TLS connections of its own */
		{"sip:1.2.3.4;transport=tls", EINVAL, "outbound_proxy "
		 "'sip:1.2.3.4;transport=tls': only ;transport=udp or "
		 ";transport=tcp"},
		{"sip:1.2.3.4:5060;lr", EINVAL, "outbound_proxy "
		 "'sip:1.2.3.4:5060;lr': only ;transport=udp or "
		 ";transport=tcp"},
		{"sip:1.2.3.4;transport=tcp;lr", EINVAL, "outbound_proxy "
		 "'sip:1.2.3.4;transport=tcp;lr': only ;transport=udp or "
		 ";transport=tcp"},
		{"sip:proxy.lan;transport=sctp", EINVAL, "outbound_proxy "
		 "'sip:proxy.lan;transport=sctp': only ;transport=udp or "
		 ";transport=tcp"},
		{"sip:proxy.lan", EINVAL, "outbound_proxy 'sip:proxy.lan': "
		 "host must be an IP address"},
		{"sip:[::1", EINVAL, "outbound_proxy 'sip:[::1': host must be "
		 "an IP address"},
		{"sip:[::1]x", EINVAL, "outbound_proxy 'sip:[::1]x': host must "
		 "be an IP address"},
		{"sip:user@1.2.3.4", EINVAL, "outbound_proxy "
		 "'sip:user@1.2.3.4': host must be an IP address"},
	};

	(void)state;
	run_checks(cases, sizeof(cases) / sizeof(cases[0]), sip_proxy_check);
}

/* The global outbound proxy takes host names too, as DNS can hold them;
 * other problems are told as for an IP address. */
static void test_outbound_proxy_names(void **state)
{
	static const struct check_case cases[] = {
		{"sip:proxy.lan", 0, ""},
		{"sip:sip.provider.example:5070;transport=tcp", 0, ""},
		{"sip:1.2.3.4", 0, ""},
		{"sip:a..b", EINVAL, "outbound_proxy 'sip:a..b': host "
		 "neither an IP address nor a host name"},
		{"sip:a.b.", EINVAL, "outbound_proxy 'sip:a.b.': host "
		 "neither an IP address nor a host name"},
		{"sip:" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		 "aaaaaaaaaaaa.lan", EINVAL, "outbound_proxy 'sip:"
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		 "aaaaaaa.lan': bad host"},
		{"sip:proxy.lan;transport=sctp", EINVAL, "outbound_proxy "
		 "'sip:proxy.lan;transport=sctp': only ;transport=udp or "
		 ";transport=tcp"},
		{"sip:pro_xy.lan", EINVAL, "outbound_proxy 'sip:pro_xy.lan': "
		 "host neither an IP address nor a host name"},
	};

	(void)state;
	run_checks(cases, sizeof(cases) / sizeof(cases[0]),
		   sip_outbound_proxy_check);
}

static void expect_flow(const struct sip_flow *f, enum sip_tp_type tp,
			int lidx, int conn, const char *peer)
{
	char s[64];

	sd_addr_str(&f->peer, s, sizeof(s));
	assert_int_equal(f->tp, tp);
	assert_int_equal(f->lidx, lidx);
	assert_int_equal(f->conn, conn);
	assert_string_equal(s, peer);
}

/* The daemon listens on udp:10.0.0.1:5060 only. */
static void test_next_hops(void **state)
{
	struct sip_flow f;

	(void)state;
	h_start(NULL);
	assert_int_equal(sip_uri_flow("sip:192.0.2.7", &f), 0);
	expect_flow(&f, SIP_TP_UDP, 0, -1, "192.0.2.7:5060");
	assert_int_equal(sip_uri_flow("sip:192.0.2.7:5070;transport=tcp",
				      &f), 0);
	expect_flow(&f, SIP_TP_TCP, 0, -1, "192.0.2.7:5070");
	assert_int_equal(sip_uri_flow("sip:[2001:db8::7]:5070", &f),
			 EAFNOSUPPORT);
	assert_int_equal(sip_uri_flow("sip:[2001:db8::7];transport=tcp",
				      &f), 0);
	expect_flow(&f, SIP_TP_TCP, 0, -1, "[2001:db8::7]:5060");
	assert_int_equal(sip_uri_flow("sip:proxy.lan", &f), EINVAL);
	assert_int_equal(sip_proxy_flow(&f), ENOENT);
	/* Our listen IP stands for the first domain. */
	assert_string_equal(sip_local_domain(sd_pl_str("10.0.0.1")),
			    H_DOMAIN);
	assert_string_equal(sip_local_domain(sd_pl_str("[10.0.0.1]")),
			    H_DOMAIN);
	assert_null(sip_local_domain(sd_pl_str("10.0.0.2")));
	assert_null(sip_local_domain(sd_pl_str(LONG_HOST)));
	h_stop();

	h_start("config simpled 'main'\n"
		"\toption outbound_proxy 'sip:192.0.2.8:5090'\n");
	assert_int_equal(sip_proxy_flow(&f), 0);
	expect_flow(&f, SIP_TP_UDP, 0, -1, "192.0.2.8:5090");
	h_stop();
}

static int contact_flow(const char *uri, const struct sip_flow *src,
			struct sip_flow *out)
{
	osip_uri_t *u = NULL;
	int err;

	assert_int_equal(osip_uri_init(&u), 0);
	assert_int_equal(osip_uri_parse(u, uri), 0);
	err = sip_contact_flow(u, src, out);
	osip_uri_free(u);
	return err;
}

static void test_contact_flows(void **state)
{
	struct sip_flow udp = {.tp = SIP_TP_UDP, .conn = -1};
	struct sip_flow tcp = {.tp = SIP_TP_TCP, .conn = 3, .gen = 9};
	struct sip_flow tls = {.tp = SIP_TP_TLS, .conn = 4, .gen = 11};
	struct sip_flow f;

	(void)state;
	h_start(NULL);
	assert_int_equal(sd_addr_parse(&udp.peer, "10.0.0.2", 5999), 0);
	assert_int_equal(sd_addr_parse(&tcp.peer, "10.0.0.3", 5998), 0);
	assert_int_equal(sd_addr_parse(&tls.peer, "10.0.0.4", 5997), 0);
	assert_int_equal(contact_flow("sip:u@192.0.2.5:5070", &udp, &f), 0);
	expect_flow(&f, SIP_TP_UDP, 0, -1, "192.0.2.5:5070");
	assert_int_equal(contact_flow("sip:u@192.0.2.5", &tcp, &f), 0);
	expect_flow(&f, SIP_TP_UDP, 0, -1, "192.0.2.5:5060");
	assert_int_equal(contact_flow("sip:u@192.0.2.5;transport=UDP", &udp,
				      &f), 0);
	expect_flow(&f, SIP_TP_UDP, 0, -1, "192.0.2.5:5060");
	/* A host name: the address the REGISTER came from. */
	assert_int_equal(contact_flow("sip:u@host.lan:5070", &udp, &f), 0);
	expect_flow(&f, SIP_TP_UDP, 0, -1, "10.0.0.2:5999");
	assert_int_equal(contact_flow("sip:u@" LONG_HOST, &udp, &f), 0);
	expect_flow(&f, SIP_TP_UDP, 0, -1, "10.0.0.2:5999");
	/* TCP: the registering connection while it lives, else a listener
	 * of the family (none here). */
	assert_int_equal(contact_flow("sip:u@192.0.2.5:5072;transport=tcp",
				      &tcp, &f), 0);
	assert_int_equal(f.gen, 9);
	expect_flow(&f, SIP_TP_TCP, 0, 3, "192.0.2.5:5072");
	assert_int_equal(contact_flow("sip:u@192.0.2.5;transport=tcp", &udp,
				      &f), EAFNOSUPPORT);
	/* TLS likewise; sips: is TLS, on 5061 unless a port is given. */
	assert_int_equal(contact_flow("sip:u@192.0.2.5:5071;transport=tls",
				      &tls, &f), 0);
	assert_int_equal(f.gen, 11);
	expect_flow(&f, SIP_TP_TLS, 0, 4, "192.0.2.5:5071");
	assert_int_equal(contact_flow("sips:u@192.0.2.5", &tls, &f), 0);
	expect_flow(&f, SIP_TP_TLS, 0, 4, "192.0.2.5:5061");
	assert_int_equal(contact_flow("sips:u@192.0.2.5;transport=tcp", &tls,
				      &f), 0);
	expect_flow(&f, SIP_TP_TLS, 0, 4, "192.0.2.5:5061");
	assert_int_equal(contact_flow("sip:u@192.0.2.5;transport=tls", &udp,
				      &f), EAFNOSUPPORT);
	assert_int_equal(contact_flow("sip:u@192.0.2.5;transport=tcp", &tls,
				      &f), EAFNOSUPPORT);
	assert_int_equal(contact_flow("sip:u@[2001:db8::5]:5070", &udp, &f),
			 EAFNOSUPPORT);
	assert_int_equal(contact_flow("sip:u@192.0.2.5;transport=sctp", &udp,
				      &f), EPROTONOSUPPORT);
	assert_int_equal(contact_flow("sip:u@host.lan;transport=sctp", &udp,
				      &f), EPROTONOSUPPORT);
	assert_int_equal(contact_flow("sip:u@192.0.2.5:0", &udp, &f), EINVAL);
	assert_int_equal(contact_flow("sip:u@192.0.2.5:70000", &udp, &f),
			 EINVAL);
	assert_int_equal(contact_flow("sip:u@host.lan:70000", &udp, &f),
			 EINVAL);
	assert_int_equal(contact_flow("sip:u@" LONG_HOST ":70000", &udp, &f),
			 EINVAL);
	assert_int_equal(sip_contact_flow(NULL, &udp, &f), EINVAL);
	h_stop();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_listen_specs),
		cmocka_unit_test(test_proxy_uris),
		cmocka_unit_test(test_outbound_proxy_names),
		cmocka_unit_test(test_next_hops),
		cmocka_unit_test(test_contact_flows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
