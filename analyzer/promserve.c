/*
 * promserve.c - see promserve.h. A client is a small state machine:
 * reading its request head (until an empty line), then writing the
 * response it was given, then closed. HTTP/1.0: one request per
 * connection, "Connection: close", no keep-alive to track.
 */
#include "promserve.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "strbuf.h"
#include "util.h"

struct client {
    int fd;                   /* -1: free slot */
    long long deadline_ms;
    char req[CT_PROMSERVE_MAX_REQUEST];
    size_t reqlen;
    char *resp;               /* NULL while reading */
    size_t resplen, sent;
};

struct ct_promserve {
    int listen_fd;
    char address[300];
    char *body;
    size_t bodylen;
    struct client clients[CT_PROMSERVE_MAX_CLIENTS];
    /* Which client each pollfd after the listener belongs to. */
    int polled[CT_PROMSERVE_MAX_CLIENTS];
    size_t npolled;
    bool listen_polled;
};

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* HOST:PORT into host (NULL: any) and port; [v6]:port too. */
static int split_hostport(const char *hp, char *host, size_t hlen, char *port, size_t plen)
{
    const char *colon;
    if (hp[0] == '[') {
        const char *close = strchr(hp, ']');
        if (!close || close[1] != ':')
            return -1;
        if ((size_t)(close - hp - 1) >= hlen)
            return -1;
        memcpy(host, hp + 1, (size_t)(close - hp - 1));
        host[close - hp - 1] = 0;
        colon = close + 1;
    } else {
        colon = strrchr(hp, ':');
        if (!colon || (size_t)(colon - hp) >= hlen)
            return -1;
        memcpy(host, hp, (size_t)(colon - hp));
        host[colon - hp] = 0;
    }
    const char *p = colon + 1;
    if (!*p || strlen(p) >= plen || strspn(p, "0123456789") != strlen(p) || atol(p) > 65535)
        return -1;
    strcpy(port, p);
    return 0;
}

struct ct_promserve *ct_promserve_open(const char *hostport, char *why, size_t whylen)
{
    char host[256], port[8];
    if (split_hostport(hostport, host, sizeof host, port, sizeof port)) {
        snprintf(why, whylen, "'%s' is not HOST:PORT (for example 127.0.0.1:9464, [::1]:9464 or :9464)",
                 hostport);
        return NULL;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *res;
    int gai = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
    if (gai) {
        snprintf(why, whylen, "%s: %s", hostport, gai_strerror(gai));
        return NULL;
    }
    int fd = -1, err = 0;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            err = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 16) != 0) {
            err = errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0) {
        snprintf(why, whylen, "%s: cannot listen: %s", hostport, strerror(err));
        return NULL;
    }
    struct ct_promserve *s = xcalloc(1, sizeof *s);
    s->listen_fd = fd;
    for (size_t i = 0; i < CT_PROMSERVE_MAX_CLIENTS; i++)
        s->clients[i].fd = -1;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    char h[NI_MAXHOST] = "?", p[NI_MAXSERV] = "?";
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
        getnameinfo((struct sockaddr *)&ss, sl, h, sizeof h, p, sizeof p, NI_NUMERICHOST | NI_NUMERICSERV);
    snprintf(s->address, sizeof s->address, strchr(h, ':') ? "[%s]:%s" : "%s:%s", h, p);
    return s;
}

const char *ct_promserve_address(const struct ct_promserve *s)
{
    return s->address;
}

void ct_promserve_set_body(struct ct_promserve *s, const char *body, size_t len)
{
    free(s->body);
    s->body = xmemdup0(body, len);
    s->bodylen = len;
}

static void drop(struct client *c)
{
    if (c->fd >= 0)
        close(c->fd);
    free(c->resp);
    c->fd = -1;
    c->resp = NULL;
    c->reqlen = c->resplen = c->sent = 0;
}

static void respond(struct ct_promserve *s, struct client *c, int status, const char *reason, bool with_body)
{
    struct strbuf b;
    sb_init(&b);
    bool ok = status == 200;
    size_t len = ok ? s->bodylen : strlen(reason) + 1;
    sb_addf(&b, "HTTP/1.0 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n", status,
            reason, ok ? "text/plain; version=0.0.4; charset=utf-8" : "text/plain; charset=utf-8", len);
    if (with_body) {
        if (ok)
            sb_add(&b, s->body ? s->body : "", s->bodylen);
        else
            sb_addf(&b, "%s\n", reason);
    }
    c->resp = b.s;
    c->resplen = b.len;
    c->sent = 0;
}

/* The request head is complete in c->req: decide the response. */
static void handle_request(struct ct_promserve *s, struct client *c)
{
    char method[16], target[1024];
    int n = 0;
    c->req[c->reqlen < sizeof c->req ? c->reqlen : sizeof c->req - 1] = 0;
    if (sscanf(c->req, "%15[A-Z] %1023[^ \r\n] HTTP/%*d.%*d%n", method, target, &n) < 2 || n == 0) {
        respond(s, c, 400, "Bad Request", true);
        return;
    }
    bool head = !strcmp(method, "HEAD");
    if (strcmp(method, "GET") && !head) {
        respond(s, c, 405, "Method Not Allowed", true);
        return;
    }
    size_t plen = strcspn(target, "?");
    if (plen != strlen("/metrics") || strncmp(target, "/metrics", plen)) {
        respond(s, c, 404, "Not Found", !head);
        return;
    }
    respond(s, c, 200, "OK", !head);
}

/* The end of the head: an empty line (CRLF or bare LF, as clients send). */
static bool head_complete(const struct client *c)
{
    for (size_t i = 0; i + 1 < c->reqlen; i++)
        if (c->req[i] == '\n' && (c->req[i + 1] == '\n' || (c->req[i + 1] == '\r' && i + 2 < c->reqlen &&
                                                             c->req[i + 2] == '\n')))
            return true;
    return false;
}

static void on_readable(struct ct_promserve *s, struct client *c)
{
    for (;;) {
        if (c->reqlen == sizeof c->req) {
            respond(s, c, 431, "Request Header Fields Too Large", true);
            return;
        }
        ssize_t r = recv(c->fd, c->req + c->reqlen, sizeof c->req - c->reqlen, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (r <= 0) {          /* closed before a whole request, or an error */
            drop(c);
            return;
        }
        c->reqlen += (size_t)r;
        if (head_complete(c)) {
            handle_request(s, c);
            return;
        }
    }
}

static void on_writable(struct client *c)
{
    while (c->sent < c->resplen) {
        ssize_t r = send(c->fd, c->resp + c->sent, c->resplen - c->sent, MSG_NOSIGNAL);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (r <= 0)
            break;
        c->sent += (size_t)r;
    }
    /* Done (or the client went away): HTTP/1.0 ends the response by closing. */
    shutdown(c->fd, SHUT_WR);
    drop(c);
}

static void accept_clients(struct ct_promserve *s)
{
    for (size_t i = 0; i < CT_PROMSERVE_MAX_CLIENTS; i++) {
        struct client *c = &s->clients[i];
        if (c->fd >= 0)
            continue;
        int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;            /* EAGAIN: nobody waiting; anything else: try at the next poll */
        c->fd = fd;
        c->deadline_ms = now_ms() + CT_PROMSERVE_DEADLINE_MS;
        c->reqlen = 0;
        on_readable(s, c);     /* the request often came with the connection */
        if (c->fd >= 0 && c->resp)
            on_writable(c);
    }
}

size_t ct_promserve_fds(struct ct_promserve *s, struct pollfd *fds, int *timeout_ms)
{
    size_t n = 0;
    long long now = now_ms();
    s->npolled = 0;
    s->listen_polled = false;
    bool room = false;
    for (size_t i = 0; i < CT_PROMSERVE_MAX_CLIENTS; i++) {
        struct client *c = &s->clients[i];
        if (c->fd < 0) {
            room = true;
            continue;
        }
        if (now >= c->deadline_ms) {
            drop(c);
            room = true;
            continue;
        }
        long long left = c->deadline_ms - now;
        if (*timeout_ms < 0 || left < *timeout_ms)
            *timeout_ms = (int)left;
    }
    if (room) {
        fds[n++] = (struct pollfd){.fd = s->listen_fd, .events = POLLIN};
        s->listen_polled = true;
    }
    for (size_t i = 0; i < CT_PROMSERVE_MAX_CLIENTS; i++) {
        struct client *c = &s->clients[i];
        if (c->fd < 0)
            continue;
        fds[n++] = (struct pollfd){.fd = c->fd, .events = c->resp ? POLLOUT : POLLIN};
        s->polled[s->npolled++] = (int)i;
    }
    return n;
}

void ct_promserve_serve(struct ct_promserve *s, const struct pollfd *fds, size_t n)
{
    size_t k = 0;
    bool accept_now = false;
    if (s->listen_polled && n > 0) {
        accept_now = fds[0].revents & POLLIN;
        k = 1;
    }
    for (size_t j = 0; j < s->npolled && k < n; j++, k++) {
        struct client *c = &s->clients[s->polled[j]];
        if (c->fd != fds[k].fd || !fds[k].revents)
            continue;
        if (!c->resp && (fds[k].revents & (POLLIN | POLLHUP | POLLERR)))
            on_readable(s, c);
        if (c->fd >= 0 && c->resp)
            on_writable(c);    /* writable, or just answered: try at once */
    }
    s->npolled = 0;
    if (accept_now)
        accept_clients(s);
}

void ct_promserve_close(struct ct_promserve *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < CT_PROMSERVE_MAX_CLIENTS; i++)
        drop(&s->clients[i]);
    close(s->listen_fd);
    free(s->body);
    free(s);
}
