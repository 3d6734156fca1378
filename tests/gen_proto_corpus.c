/*
 * gen_proto_corpus.c - write the seed corpus of the protocol fuzzer.
 *
 * Design.  Seeds should reach every layout quickly, so this writes one
 * valid frame per opcode and direction (requests, responses, an error
 * response, one push per event kind), a few pipelined streams, and a few
 * malformed inputs, one per class of header and body error.  Messages carry
 * realistic content (a "recs" namespace, user keys, product tags) so the
 * fuzzer mutates plausible frames.  Output is deterministic; the files are
 * committed under tests/corpus/proto and regenerated with
 *   gen_proto_corpus tests/corpus/proto
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recache/rc_peerwire.h"
#include "recache/rc_proto.h"

static const char *out_dir;

static void die(const char *what)
{
    fprintf(stderr, "gen_proto_corpus: %s\n", what);
    exit(1);
}

static void write_file(const char *name, const uint8_t *data, size_t len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", out_dir, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0)
        die(path);
}

/* A message with every field set to plausible content; the layout picks what is sent. */
static rc_msg plausible(uint8_t opcode, uint8_t hflags, uint16_t status)
{
    static uint8_t tags[64];
    static const rc_slice tag_items[] = {{(const uint8_t *)"product:QL2000", 14},
                                         {(const uint8_t *)"segment:eu", 10}};
    long tags_len = rc_list_encode(tag_items, 2, tags, sizeof tags);
    if (tags_len < 0)
        die("tag list");

    rc_msg m = {.opcode = opcode, .hflags = hflags, .status = status};
    m.request_id = (hflags & RC_HF_PUSH) ? 0 : 1000 + opcode;
    m.ns_version = 7;
    m.min_version = 6;
    m.entry_version = 1700000000123u;
    m.seq = 4242;
    m.instance_id = 0x9E3779B97F4A7C15u;
    m.ttl_ms = 60000;
    m.stale_ms = RC_STALE_DEFAULT;
    m.client_flags = 3;
    m.wait_ms = 250;
    m.max_frame = 2u << 20;
    m.max_value = 1u << 20;
    m.max_key = 250;
    m.max_tags = 32;
    m.max_tag_len = 128;
    m.cond = RC_COND_IF_NEWER;
    m.state = RC_STATE_FRESH;
    m.lease = RC_LEASE_GRANTED;
    m.kind = RC_EV_KEY;
    for (unsigned i = 0; i < RC_TOKEN_SIZE; i++)
        m.token[i] = (uint8_t)(i * 37 + 11);
    m.ns = rc_slice_str("recs");
    m.key = rc_slice_str("user:1234");
    m.tag = rc_slice_str("product:QL2000");
    m.tags = (rc_slice){tags, (uint32_t)tags_len};
    m.ntags = 2;
    m.text = rc_slice_str(status >= RC_STATUS_FIRST_ERROR ? "key longer than 250 bytes"
                                                          : "recache-cli/0.1");
    m.value = rc_slice_str(opcode == RC_OP_NS_CONFIG ? "ttl_ms=60000 stale_ms=5000"
                                                     : "[1017,2203,3301,4409,5521]");
    m.cursor = 1;
    m.next = 0;
    if (opcode == RC_OP_PEER_SYNC) { /* a page of control records (rc_peerwire.h) */
        static uint8_t records[256];
        const rc_peerwire_rec recs[] = {
            {.kind = RC_PEERWIRE_VERSION, .name = rc_slice_str("recs"), .version = 7},
            {.kind = RC_PEERWIRE_TAG,
             .name = rc_slice_str("product:QL2000"),
             .hard = 0x0001A2B3C4D50000u,
             .any = 0x0001A2B3C4D50003u},
        };
        size_t len = 0;
        for (size_t i = 0; i < sizeof recs / sizeof recs[0]; i++) {
            long n = rc_peerwire_encode(&recs[i], records + len, sizeof records - len);
            if (n < 0)
                die("peer records");
            len += (size_t)n;
        }
        m.value = (rc_slice){records, (uint32_t)len};
    }
    return m;
}

/* Append the encoding of m at buf+*len. */
static void append(const rc_msg *m, uint8_t *buf, size_t cap, size_t *len)
{
    long n = rc_encode(m, buf + *len, cap - *len);
    if (n < 0)
        die(rc_strerror((int)n));
    *len += (size_t)n;
}

static void write_msg(const char *name, const rc_msg *m)
{
    uint8_t buf[1024];
    size_t len = 0;
    append(m, buf, sizeof buf, &len);
    write_file(name, buf, len);
}

static const uint8_t all_ops[] = {
#define GEN_OP_CODE(name, code, str) code,
    RC_OPCODES(GEN_OP_CODE)
#undef GEN_OP_CODE
};

/* One request and one response per opcode (EVENT has neither), an error, every push kind. */
static void write_single_frames(void)
{
    char name[64];
    for (size_t i = 0; i < sizeof all_ops; i++) {
        if (all_ops[i] == RC_OP_EVENT)
            continue;
        rc_msg rq = plausible(all_ops[i], 0, 0), rs = plausible(all_ops[i], RC_HF_RESPONSE, 0);
        snprintf(name, sizeof name, "req-%s.bin", rc_opcode_name(all_ops[i]));
        write_msg(name, &rq);
        snprintf(name, sizeof name, "resp-%s.bin", rc_opcode_name(all_ops[i]));
        write_msg(name, &rs);
    }
    rc_msg miss = plausible(RC_OP_GET, RC_HF_RESPONSE, RC_STATUS_MISS);
    miss.value = (rc_slice){NULL, 0};
    write_msg("resp-get-miss.bin", &miss);
    rc_msg err = plausible(RC_OP_SET, RC_HF_RESPONSE, RC_STATUS_KEY_TOO_LONG);
    write_msg("resp-error.bin", &err);
    for (uint8_t kind = RC_EV_KEY; kind <= RC_EV_CLOSING; kind++) {
        rc_msg ev = plausible(RC_OP_EVENT, RC_HF_PUSH, 0);
        ev.kind = kind;
        snprintf(name, sizeof name, "push-event-%u.bin", kind);
        write_msg(name, &ev);
    }
}

/* All requests back to back, all responses back to back, and a stream with a bad body inside. */
static void write_streams(void)
{
    static uint8_t rq[16384], rs[16384];
    size_t rq_len = 0, rs_len = 0;
    for (size_t i = 0; i < sizeof all_ops; i++) {
        if (all_ops[i] == RC_OP_EVENT)
            continue;
        rc_msg a = plausible(all_ops[i], 0, 0), b = plausible(all_ops[i], RC_HF_RESPONSE, 0);
        append(&a, rq, sizeof rq, &rq_len);
        append(&b, rs, sizeof rs, &rs_len);
    }
    rc_msg ev = plausible(RC_OP_EVENT, RC_HF_PUSH, 0);
    append(&ev, rs, sizeof rs, &rs_len);
    write_file("stream-requests.bin", rq, rq_len);
    write_file("stream-responses.bin", rs, rs_len);

    uint8_t mixed[1024];
    size_t len = 0;
    rc_msg ping = plausible(RC_OP_PING, 0, 0), get = plausible(RC_OP_GET, 0, 0);
    append(&ping, mixed, sizeof mixed, &len);
    size_t at = len;
    append(&ping, mixed, sizeof mixed, &len);
    mixed[at + 2] = 0x7E; /* the second PING relabelled with an opcode nobody knows */
    append(&get, mixed, sizeof mixed, &len);
    write_file("stream-unknown-opcode-inside.bin", mixed, len);
    write_file("stream-partial-frame.bin", rq, rq_len - 5);
}

/* One input per malformed class; each starts from a valid frame. */
static void write_malformed(void)
{
    uint8_t buf[1024];
    size_t len = 0;
    rc_msg set = plausible(RC_OP_SET, 0, 0);
    append(&set, buf, sizeof buf, &len);
    static const struct {
        const char *name;
        size_t off;
        uint8_t byte;
    } patches[] = {
        {"bad-magic.bin", 0, 0xC4},
        {"bad-version.bin", 1, 2},
        {"bad-hflags.bin", 3, 0x03},
        {"bad-reserved.bin", 7, 1},
        {"body-len-huge.bin", 15, 0xFF},
        {"bad-cond.bin", RC_HEADER_SIZE + 36, 9},
        {"key-len-over.bin", RC_HEADER_SIZE + 58, 0xFF},
    };
    for (size_t i = 0; i < sizeof patches / sizeof patches[0]; i++) {
        uint8_t copy[1024];
        memcpy(copy, buf, len);
        copy[patches[i].off] = patches[i].byte;
        write_file(patches[i].name, copy, len);
    }
    write_file("truncated-header.bin", buf, RC_HEADER_SIZE - 3);

    /* Trailing byte: body_len one larger than the fields. */
    buf[len] = 0;
    buf[12]++;
    write_file("trailing-byte.bin", buf, len + 1);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s OUTPUT_DIR\n", argv[0]);
        return 2;
    }
    out_dir = argv[1];
    write_single_frames();
    write_streams();
    write_malformed();
    return 0;
}
