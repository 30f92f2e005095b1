/*
 * promserve.h - a tiny HTTP/1.0 server for one document: the Prometheus
 * text exposition that `cowtrace watch` keeps current at /metrics.
 *
 * Promise: single-threaded and never blocking: every socket is
 * non-blocking, and the caller's poll() loop drives it (ct_promserve_fds
 * says what to wait for, ct_promserve_serve does what became possible), so
 * a slow or silent client never holds up the sampler. It answers only
 * `GET /metrics` (with or without a query string; HEAD too) with the last
 * body given to ct_promserve_set_body; anything else gets a 4xx status.
 * A request head larger than CT_PROMSERVE_MAX_REQUEST bytes is refused
 * (431), at most CT_PROMSERVE_MAX_CLIENTS connections are open at once
 * (more wait in the listen backlog), and a connection that has not
 * finished within CT_PROMSERVE_DEADLINE_MS is closed. Each response is
 * a copy of the body at the time the request was complete, so a sample
 * finishing mid-response never tears it.
 */
#ifndef COWTRACE_PROMSERVE_H
#define COWTRACE_PROMSERVE_H

#include <poll.h>
#include <stddef.h>

#define CT_PROMSERVE_MAX_REQUEST 8192
#define CT_PROMSERVE_MAX_CLIENTS 16
#define CT_PROMSERVE_DEADLINE_MS 10000
/* Room ct_promserve_fds may need in its array. */
#define CT_PROMSERVE_NFDS (1 + CT_PROMSERVE_MAX_CLIENTS)

struct ct_promserve;

/* Listens on HOST:PORT ("127.0.0.1:9464", "[::1]:9464", ":9464" for every
 * address; PORT 0 picks a free one). NULL with why ("address already in
 * use", ...) on failure. */
struct ct_promserve *ct_promserve_open(const char *hostport, char *why, size_t whylen);
/* The address actually bound, "HOST:PORT" (the port chosen, for PORT 0). */
const char *ct_promserve_address(const struct ct_promserve *s);
/* The document served from now on (copied). */
void ct_promserve_set_body(struct ct_promserve *s, const char *body, size_t len);
/* Fills fds (room for CT_PROMSERVE_NFDS) and returns how many; *timeout_ms
 * is lowered to the nearest client deadline. */
size_t ct_promserve_fds(struct ct_promserve *s, struct pollfd *fds, int *timeout_ms);
/* Handles what poll() reported on the fds ct_promserve_fds filled. */
void ct_promserve_serve(struct ct_promserve *s, const struct pollfd *fds, size_t n);
void ct_promserve_close(struct ct_promserve *s);

#endif
