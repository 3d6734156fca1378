/*
 * rc_errors.c - names and sentences for recache's error codes.
 *
 * Design.  Both lookups are switch statements generated from the X-macro
 * tables in rc_errors.h, so a code added there is named and described here
 * without touching this file, and the compiler rejects a duplicated code as
 * a duplicate case label.  The results are string literals: no state, no
 * allocation, safe from any thread.
 */
#include "recache/rc_errors.h"

/*
 * rc_strerror - the sentence for err.  0 is "success"; a value that is not
 * one of the RC_E* codes (including positive wire statuses, which callers
 * negate first) gives "unknown error".  Never returns NULL.
 */
const char *rc_strerror(int err)
{
    switch (err) {
    case RC_OK:
        return "success";
#define RC__ERR_MESSAGE_CASE(name, code, msg)                                                      \
    case RC_E##name:                                                                               \
        return msg;
        RC_WIRE_ERRORS(RC__ERR_MESSAGE_CASE)
        RC_LOCAL_ERRORS(RC__ERR_MESSAGE_CASE)
#undef RC__ERR_MESSAGE_CASE
    default:
        return "unknown error";
    }
}

/*
 * rc_error_name - the symbolic name of err without its RC_E prefix ("MISS",
 * "TIMEDOUT"); "OK" for 0 and "UNKNOWN" for anything else.  Never NULL.
 */
const char *rc_error_name(int err)
{
    switch (err) {
    case RC_OK:
        return "OK";
#define RC__ERR_NAME_CASE(name, code, msg)                                                         \
    case RC_E##name:                                                                               \
        return #name;
        RC_WIRE_ERRORS(RC__ERR_NAME_CASE)
        RC_LOCAL_ERRORS(RC__ERR_NAME_CASE)
#undef RC__ERR_NAME_CASE
    default:
        return "UNKNOWN";
    }
}
