/** @file fuzz_frame.c  libFuzzer: the TCP stream framer. The input is
 * cut into the pieces a socket might deliver (its first byte chooses the
 * sizes), fed to a buffer the way sip_tcp.c feeds its own, and every
 * answer of sip_frame_next() must stay inside what is there, move the
 * stream forward, and never frame past the size limit. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sip_priv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char rx[CONFIG_SIMPLED_MAX_MSG_SIZE + 1];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t rx_len = 0, skip = 0, pos = 1, step;

	if (!size) {
		return 0;
	}
	step = (size_t)data[0] % 97 + 1;
	while (pos < size) {
		size_t n = size - pos < step ? size - pos : step;
		struct sip_frame f;

		if (n > CONFIG_SIMPLED_MAX_MSG_SIZE - rx_len) {
			n = CONFIG_SIMPLED_MAX_MSG_SIZE - rx_len;
		}
		memcpy(rx + rx_len, data + pos, n);
		rx_len += n;
		pos += n;
		for (;;) {
			size_t before = rx_len;

			if (skip) {
				size_t k = skip < rx_len ? skip : rx_len;

				memmove(rx, rx + k, rx_len - k);
				rx_len -= k;
				skip -= k;
				if (skip) {
					break;
				}
			}
			sip_frame_next(rx, rx_len, &f);
			if (f.lead > rx_len || f.pings > f.lead / 4) {
				abort();
			}
			memmove(rx, rx + f.lead, rx_len - f.lead);
			rx_len -= f.lead;
			if (f.what == SIP_FRAME_MORE) {
				if (rx_len >= CONFIG_SIMPLED_MAX_MSG_SIZE) {
					abort(); /* must have been CLOSE */
				}
				break;
			}
			if (f.what == SIP_FRAME_CLOSE) {
				return 0;
			}
			if (f.hlen > rx_len || f.hlen < 2) {
				abort();
			}
			if (f.what == SIP_FRAME_REFUSE) {
				skip = f.skip;
				memmove(rx, rx + f.hlen, rx_len - f.hlen);
				rx_len -= f.hlen;
			} else {
				if (f.len < f.hlen || f.len > rx_len ||
				    f.len > CONFIG_SIMPLED_MAX_MSG_SIZE) {
					abort();
				}
				memmove(rx, rx + f.len, rx_len - f.len);
				rx_len -= f.len;
			}
			if (rx_len >= before && !f.lead) {
				abort(); /* no progress */
			}
		}
	}
	return 0;
}
