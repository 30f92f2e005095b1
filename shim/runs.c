/*
 * runs.c - page sets as run lists (see ct_format.h): unsigned LEB128 pairs
 * (gap, run), cut into bodies of a few kilobytes that trace_records.c turns
 * into records. Pages arrive in increasing order (overlaps are trimmed);
 * adjacent runs are merged before they are encoded. Page summaries are
 * built the same way: LEB128 entries, a record every few kilobytes.
 */
#include "ct_shim.h"
#include "ct_wire.h"

static void emit(struct ct_runs *r)
{
    if (!r->n)
        return;
    if (ct_rec_pages(r->w, r->type, r->region, r->first_page, r->buf, r->n))
        r->failed = 1;
    r->n = 0;
    r->first_page = r->cursor;
}

static void encode_run(struct ct_runs *r)
{
    if (!r->run_len)
        return;
    if (r->n > sizeof r->buf - 24)
        emit(r);
    r->n += ct_wire_put_uleb(r->buf + r->n, r->run_start - r->cursor);
    r->n += ct_wire_put_uleb(r->buf + r->n, r->run_len);
    r->cursor = r->run_start + r->run_len;
    r->run_len = 0;
}

void ct_runs_begin(struct ct_runs *r, struct ct_writer *w, uint32_t type, uint32_t region)
{
    r->w = w;
    r->type = type;
    r->region = region;
    r->first_page = r->cursor = 0;
    r->run_start = r->run_len = 0;
    r->n = 0;
    r->failed = 0;
}

void ct_runs_add(struct ct_runs *r, uint64_t page, uint64_t count)
{
    /* PAGEMAP_SCAN resumed at walk_end may hand back pages it already gave:
     * keep only what lies past the end of what we hold. */
    uint64_t held = r->run_len ? r->run_start + r->run_len : r->cursor;
    if (page + count <= held)
        return;
    if (page < held) {
        count -= held - page;
        page = held;
    }
    if (r->run_len && page == r->run_start + r->run_len) {
        r->run_len += count;
        return;
    }
    encode_run(r);
    r->run_start = page;
    r->run_len = count;
}

int ct_runs_end(struct ct_runs *r)
{
    encode_run(r);
    emit(r);
    return r->failed ? -1 : 0;
}

/* ---- page summaries -------------------------------------------------------- */

static void sums_emit(struct ct_sums *s)
{
    if (!s->count)
        return;
    if (ct_rec_page_summary(s->w, s->base, s->count, s->buf, s->n))
        s->failed = 1;
    s->count = 0;
    s->n = 0;
}

static void sums_encode(struct ct_sums *s, uintptr_t page, const struct ct_py_summary *sum)
{
    if (s->count && (page <= s->last || s->n > sizeof s->buf - 48))
        sums_emit(s);
    if (!s->count)
        s->base = s->last = page;
    uint64_t delta = (page - s->last) >> ct_cfg.page_shift;
    s->n += ct_wire_put_uleb(s->buf + s->n, delta);
    s->n += ct_wire_put_uleb(s->buf + s->n, sum->type_index);
    s->n += ct_wire_put_uleb(s->buf + s->n, sum->where | (uint64_t)(sum->block_size / 16) << 2);
    s->n += ct_wire_put_uleb(s->buf + s->n, sum->objects);
    s->last = page;
    s->count++;
}

static void sums_flush_pending(struct ct_sums *s)
{
    ct_py_summarize_batch(s->st, s->pending, s->npending, s->results);
    for (size_t i = 0; i < s->npending; i++)
        if (s->results[i].where != CT_WHERE_UNKNOWN)   /* not a Python process: nothing to say */
            sums_encode(s, s->pending[i], &s->results[i]);
    s->npending = 0;
}

void ct_sums_add(struct ct_sums *s, struct ct_state *st, uintptr_t page)
{
    s->w = &st->w;
    s->st = st;
    s->pending[s->npending++] = page;
    if (s->npending == CT_SUM_BATCH)
        sums_flush_pending(s);
}

int ct_sums_end(struct ct_sums *s)
{
    if (s->npending)
        sums_flush_pending(s);
    sums_emit(s);
    /* Every scan of a region ends here, the final one too: a full
     * collection since the fork is recorded (PYGC) the first scan after
     * its count grew, whether or not this region had pages to summarize. */
    if (ct_py_collections_record())
        s->failed = 1;
    int failed = s->failed;
    s->failed = 0;
    return failed ? -1 : 0;
}
