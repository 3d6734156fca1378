/*
 * test_sizes.c - prints the per-entry and per-connection struct sizes, and
 * fails when they grow past their budgets, so that growth is a decision
 * someone notices rather than an accident.  Entry metadata is charged
 * against the memory limit once per cached item; the connection struct
 * once per client (10,000 by default).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>

#include "rc_conn.h"
#include "rc_store.h"
#include "rc_test.h"

#define ENTRY_BUDGET      72u
#define CONNECTION_BUDGET 640u /* uv_tcp_t and uv_write_t are most of it */

int main(void)
{
    size_t entry = rc_store_entry_overhead();
    size_t conn = sizeof(struct rc_conn);
    printf("entry metadata: %zu bytes (budget %u)\n", entry, ENTRY_BUDGET);
    printf("connection struct: %zu bytes (budget %u, buffers not included)\n", conn,
           CONNECTION_BUDGET);
    RC_CHECK(entry <= ENTRY_BUDGET);
    RC_CHECK(conn <= CONNECTION_BUDGET);
    return 0;
}
