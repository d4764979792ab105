/*
 * lwatch.c - the watch on Lua calls that run too long, at no cost to the
 * calls that do not.
 *
 * A count hook makes Lua 5.4 stop at every VM instruction (the VM's
 * "trap"), whatever the count: that was 5% of a 3-hop upgrade and slows
 * a script's own work several times over. So a call starts without a
 * hook. A thread that runs Lua calls gets a timer on its own CPU clock,
 * which signals it every FLW_TICK_NS of CPU time it uses; when two ticks
 * land in the same call (it has run for a tick at least), the signal
 * handler sets the count hook on the running state, and from then on the
 * call counts its instructions as before and is stopped past the limit.
 * lua_sethook may be called from a signal handler that interrupted the
 * state (Lua's own interpreter stops scripts on ^C that way). When the
 * call ends, the hook comes off.
 *
 * Where the watch cannot run (no timer, or the signal is taken by the
 * host program), every call gets the count hook from its start, as
 * before.
 *
 * State: what the handler needs is per thread, in thread-local storage,
 * the only place a signal handler can find what its thread runs
 * (initial-exec TLS: libferry is linked statically, so the access is
 * async-signal-safe). The handler, the signal number and the key that
 * deletes a thread's timer when it exits are set once per process.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "migrate/lwatch.h"

#define FLW_TICK_NS (50 * 1000000L) /* 50 ms of the thread's CPU time */

typedef struct flw_thread {
	int state;               /* 0 not tried, 1 timer running, -1 none */
	timer_t timer;
	lua_State *volatile cur; /* the state in a call, or NULL */
	volatile unsigned long calls, seen; /* calls begun; at the last tick */
	volatile sig_atomic_t hooked;       /* the hook is on cur's state */
	lua_Hook hook;
	int every;
} flw_thread;

static __thread flw_thread flw __attribute__((tls_model("initial-exec")));

static pthread_once_t flw_once = PTHREAD_ONCE_INIT;
static pthread_key_t flw_key; /* its destructor deletes the timer */
static int flw_sig;           /* 0: the watch cannot run */

static void flw_tick(int sig, siginfo_t *si, void *uc)
{
	int e = errno;
	lua_State *L = flw.cur;
	(void)sig;
	(void)si;
	(void)uc;
	if (L && flw.calls == flw.seen && !flw.hooked) {
		lua_sethook(L, flw.hook, LUA_MASKCOUNT, flw.every);
		flw.hooked = 1;
	}
	flw.seen = flw.calls;
	errno = e;
}

static void flw_exit(void *p)
{
	timer_delete(((flw_thread *)p)->timer);
}

/* A child of fork has no timers: its thread makes its own when it runs
 * a call. */
static void flw_forked(void)
{
	flw.state = 0;
	flw.cur = NULL;
	flw.hooked = 0;
}

/* Once per process: the handler, on a real-time signal nobody handles. */
static void flw_init(void)
{
	struct sigaction sa, old;
	int sig = SIGRTMIN + 4;
	if (sig > SIGRTMAX || sigaction(sig, NULL, &old) ||
	    old.sa_handler != SIG_DFL || pthread_key_create(&flw_key, flw_exit) ||
	    pthread_atfork(NULL, NULL, flw_forked))
		return;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = flw_tick;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(sig, &sa, NULL) == 0)
		flw_sig = sig;
}

/* This thread's timer: 1 if it runs, -1 if it cannot. */
static int flw_start(void)
{
	struct sigevent ev;
	struct itimerspec it = {{0, FLW_TICK_NS}, {0, FLW_TICK_NS}};
	sigset_t set;
	pthread_once(&flw_once, flw_init);
	if (!flw_sig)
		return -1;
	sigemptyset(&set);
	sigaddset(&set, flw_sig);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	memset(&ev, 0, sizeof ev);
	ev.sigev_notify = SIGEV_THREAD_ID;
	ev.sigev_signo = flw_sig;
#ifdef sigev_notify_thread_id
	ev.sigev_notify_thread_id = gettid();
#else /* older glibc headers name only the union member */
	ev._sigev_un._tid = gettid();
#endif
	if (timer_create(CLOCK_THREAD_CPUTIME_ID, &ev, &flw.timer))
		return -1;
	if (timer_settime(flw.timer, 0, &it, NULL) ||
	    pthread_setspecific(flw_key, &flw)) {
		timer_delete(flw.timer);
		return -1;
	}
	return 1;
}

void fmig_lwatch_begin(lua_State *L, lua_Hook hook, int every)
{
	if (!flw.state)
		flw.state = flw_start();
	flw.hook = hook;
	flw.every = every;
	flw.hooked = 0;
	if (flw.state < 0) { /* no watch: count from the start */
		lua_sethook(L, hook, LUA_MASKCOUNT, every);
		flw.hooked = 1;
		return;
	}
	flw.calls++;
	flw.cur = L;
}

int fmig_lwatch_running(void)
{
	return flw.state > 0;
}

void fmig_lwatch_end(lua_State *L)
{
	flw.cur = NULL;
	if (flw.hooked) {
		lua_sethook(L, NULL, 0, 0);
		flw.hooked = 0;
	}
}
