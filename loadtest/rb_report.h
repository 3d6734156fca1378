/*
 * rb_report.h - the final report of a load run, as a text table and JSON.
 *
 * Design.  Both forms are generated from the same merged rb_stats and the
 * options table, so they always agree; JSON additionally carries the exact
 * configuration, every counter and the per-second origin series.  Latencies
 * are reported in microseconds from nanosecond histograms.
 */
#ifndef RB_REPORT_H
#define RB_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "rb_engine.h"

typedef struct rb_report {
    const rb_opts *o;
    rb_target target;
    rb_mode mode;
    const rb_result *res;
    const char *server_stats; /* selected "name value" lines from the server, or NULL */
    double fill_s;            /* seconds the --fill phase took (0 = none) */
} rb_report;

/* rb_report_violations - oracle violations (corrupt, wrong user and every ghost kind). */
unsigned long long rb_report_violations(const rb_report *r);
/* rb_report_ops_per_sec - answered requests (reads, writes and fills) per measured second. */
double rb_report_ops_per_sec(const rb_report *r);
/*
 * rb_report_achieved_rate - answered workload requests (reads and writes,
 * the requests --rate schedules; fills follow misses) per measured second.
 */
double rb_report_achieved_rate(const rb_report *r);

void rb_report_text(const rb_report *r, FILE *out);
void rb_report_json(const rb_report *r, FILE *out);

/*
 * rb_report_write_json - write the JSON report to path ("-" = stdout).
 * Returns 0 or RC_EIO (after printing why).
 */
int rb_report_write_json(const rb_report *r, const char *path);

#endif
