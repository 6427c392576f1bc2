/* RTSP_TRANSPORT=auto's decisions (capture/transport.c): what counts as a
 * refused transport, what is tried next, what is remembered. */
#include "check.h"

#include "../../capture/transport.h"

#include <libavutil/error.h>

#include <errno.h>

static void test_names(void)
{
    static const char *const names[] = {"auto", "tcp", "udp", "udp_multicast", "http"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        CHECK(strcmp(capture_transport_name(capture_transport_from_name(names[i])), names[i]) == 0);
    CHECK(capture_transport_from_name("auto") == CAPTURE_TRANSPORT_AUTO);
    CHECK(strcmp(capture_transport_label(CAPTURE_TRANSPORT_UDP), "UDP") == 0);
}

/* What libavformat returns and logs for each failure, as rtsp.c does it. */
static void test_refusal(void)
{
    /* 461 to SETUP, no transport left to try: "Protocol not supported". */
    CHECK(capture_transport_refusal(AVERROR(EPROTONOSUPPORT),
                                    "method SETUP failed: 461 Unsupported transport") == 461);
    /* The same with libav's log silenced (LOGLEVEL=CRITICAL). */
    CHECK(capture_transport_refusal(AVERROR(EPROTONOSUPPORT), "") == 461);
    /* 461 to a later stream's SETUP. */
    CHECK(capture_transport_refusal(AVERROR_HTTP_OTHER_4XX,
                                    "[rtsp @ 0x5581] method SETUP failed: 461 Unsupported "
                                    "transport") == 461);
    /* 400 comes with no line: maybe SETUP, which only another transport tells. */
    CHECK(capture_transport_refusal(AVERROR_HTTP_BAD_REQUEST, "") == 400);
    /* Everything else is not about the transport. */
    CHECK(capture_transport_refusal(AVERROR_HTTP_UNAUTHORIZED, "") == 0);
    CHECK(capture_transport_refusal(AVERROR_HTTP_NOT_FOUND, "method DESCRIBE failed: 404") == 0);
    CHECK(capture_transport_refusal(AVERROR_HTTP_SERVER_ERROR,
                                    "method DESCRIBE failed: 503 Service Unavailable") == 0);
    CHECK(capture_transport_refusal(AVERROR(ECONNREFUSED), "Connection refused") == 0);
    CHECK(capture_transport_refusal(AVERROR(ETIMEDOUT), "") == 0);
    CHECK(capture_transport_refusal(AVERROR_INVALIDDATA, "") == 0);
}

/* TCP first; the other of TCP and UDP after a refusal; the remembered one
 * first on the next connect. */
static void test_choice(void)
{
    CHECK(capture_transport_recall() == CAPTURE_TRANSPORT_AUTO);
    CHECK(capture_transport_first() == CAPTURE_TRANSPORT_TCP);
    CHECK(capture_transport_fallback(CAPTURE_TRANSPORT_TCP) == CAPTURE_TRANSPORT_UDP);
    CHECK(capture_transport_fallback(CAPTURE_TRANSPORT_UDP) == CAPTURE_TRANSPORT_TCP);
    capture_transport_remember(CAPTURE_TRANSPORT_UDP);
    CHECK(capture_transport_recall() == CAPTURE_TRANSPORT_UDP);
    CHECK(capture_transport_first() == CAPTURE_TRANSPORT_UDP);
    /* A camera whose settings changed back refuses UDP: TCP is next. */
    capture_transport_remember(capture_transport_fallback(CAPTURE_TRANSPORT_UDP));
    CHECK(capture_transport_first() == CAPTURE_TRANSPORT_TCP);
}

int main(void)
{
    test_names();
    test_refusal();
    test_choice();
    printf("transport: ok\n");
    return 0;
}
