/*
 * pbwrite.h - the few protocol buffer encodings the pprof output needs,
 * appended to a strbuf.
 *
 * Promise: each call appends one complete field (tag, then value) in the
 * protobuf wire format: varints (wire type 0) for integers, length-
 * delimited (wire type 2) for bytes, strings, packed integers and nested
 * messages. A nested message is built in its own strbuf and appended
 * whole, so lengths are always exact. No schema, no reading: the test
 * (tests/test_pprof.py) decodes the result with an independent reader.
 *
 * Why not Debian's protobuf-c: it would need pprof's profile.proto (Google's
 * schema, not ours to commit) fetched and compiled by protoc-c at build
 * time, plus its runtime, to write what three functions here write; the
 * compression is zlib's, as the issue prefers.
 */
#ifndef COWTRACE_PBWRITE_H
#define COWTRACE_PBWRITE_H

#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

/* A bare varint (no tag): for packed repeated fields. */
void pb_varint(struct strbuf *b, uint64_t v);

/* Field `field` as a varint (int64 values are cast: negative ones take
 * ten bytes, as protobuf specifies). */
void pb_uint(struct strbuf *b, uint32_t field, uint64_t v);

/* Field `field` as length-delimited bytes (a string, a nested message
 * already encoded, or packed varints). */
void pb_bytes(struct strbuf *b, uint32_t field, const void *p, size_t n);

#endif
