/*
 * test_worker.c - the worker core (rc_worker.h) alone, with no server,
 * connection or subscriber: tasks posted from another thread run on the
 * worker's thread in order, a wake-up runs the on_wake hook, stopping runs
 * the queued tasks and then the parts' stops in registration order, posting
 * afterwards is refused, and the parts are set up and released.
 */
#define _GNU_SOURCE

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "rc_test.h"
#include "rc_worker.h"

enum { NTASKS = 1000 };

static int ran[NTASKS];
static int nran;
static pthread_t worker_thread;
static bool wrong_thread;
static int woken;
static char order[16]; /* parts' events: 'a'/'b' setup, 'A'/'B' stop, 'r' release */
static size_t norder;

typedef struct counted_task {
    rc_task task;
    int n;
} counted_task;

static counted_task tasks[NTASKS];
static rc_task stop_task;

static void run_counted(rc_worker *w, rc_task *task)
{
    (void)w;
    if (!pthread_equal(pthread_self(), worker_thread))
        wrong_thread = true;
    ran[nran++] = ((counted_task *)task)->n;
}

static void run_stop(rc_worker *w, rc_task *task)
{
    (void)task;
    rc_worker_core_stop(w);
}

static void on_wake(rc_worker *w)
{
    atomic_store(&w->sub_pending, false); /* as the real hook (the subscribers' fan-out) does */
    woken++;
}

static int setup_a(rc_worker *w)
{
    (void)w;
    order[norder++] = 'a';
    return 0;
}
static int setup_b(rc_worker *w)
{
    (void)w;
    order[norder++] = 'b';
    return 0;
}
static void stop_a(rc_worker *w)
{
    (void)w;
    order[norder++] = 'A';
}
static void stop_b(rc_worker *w)
{
    (void)w;
    order[norder++] = 'B';
}
static void release_b(rc_worker *w)
{
    (void)w;
    order[norder++] = 'r';
}

static const rc_worker_part part_a = {"a", setup_a, stop_a, NULL};
static const rc_worker_part part_b = {"b", setup_b, stop_b, release_b};
static const rc_worker_part *const parts[] = {&part_a, &part_b};

static void *worker_main(void *arg)
{
    rc_worker *w = arg;
    uv_run(&w->loop, UV_RUN_DEFAULT); /* returns once the stop closed the wakeup handle */
    return NULL;
}

static void test_core(void)
{
    rc_worker *w = calloc(1, sizeof(*w));
    const char *failed = NULL;
    RC_CHECK_EQ_INT(rc_worker_core_init(w, on_wake, parts, 2), 0);
    RC_CHECK_EQ_INT(rc_worker_parts_setup(w, &failed), 0);
    RC_CHECK_EQ_INT(rc_worker_core_wakeup_init(w), 0);
    RC_CHECK_EQ_INT(pthread_create(&worker_thread, NULL, worker_main, w), 0);

    for (int i = 0; i < NTASKS; i++) {
        tasks[i].task.run = run_counted;
        tasks[i].n = i;
        RC_CHECK_EQ_INT(rc_worker_post(w, &tasks[i].task), 0);
    }
    rc_worker_wake(w);
    stop_task.run = run_stop;
    RC_CHECK_EQ_INT(rc_worker_post(w, &stop_task), 0);
    RC_CHECK_EQ_INT(pthread_join(worker_thread, NULL), 0);

    RC_CHECK_EQ_INT(nran, NTASKS); /* every task posted before the stop ran, in order */
    for (int i = 0; i < NTASKS; i++)
        RC_CHECK_EQ_INT(ran[i], i);
    RC_CHECK(!wrong_thread);
    RC_CHECK(woken >= 1);
    counted_task late = {{NULL, run_counted}, -1};
    RC_CHECK_EQ_INT(rc_worker_post(w, &late.task), RC_ESHUTTING_DOWN);
    rc_worker_wake(w); /* a no-op once stopped */

    RC_CHECK_EQ_INT(uv_loop_close(&w->loop), 0);
    rc_worker_parts_release(w);
    rc_worker_core_destroy(w);
    order[norder] = '\0';
    RC_CHECK(strcmp(order, "abABr") == 0);
    free(w);
}

int main(void)
{
    RC_TEST_RUN(test_core);
    return 0;
}
