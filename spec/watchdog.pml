/*
 * The world around the generated supervisor machine (build/gen/
 * calibration.pml): the watchdog and its rules, the plant, and an
 * environment that produces every event in any order. `make model`
 * composes calibration.pml, this file and properties.pml and checks each
 * property with SPIN.
 *
 * What is modelled, and how it is abstracted:
 *
 * Facts of the run (spec/facts.pml; chosen once in init here): the
 * method, the authorisation (--confirm), the class of the bank at
 * pre-flight, and whether the packs re-anchor (decided when the taper
 * hold finishes). The guards' `model` expressions in the spec read them.
 *
 * Environment: up to ENV_BUDGET events, each any event whose source is not
 * the watchdog (telemetry judgements, timers, signals, start), in any
 * order and at any time; then the run clock: the supervisor's run_timeout,
 * then the watchdog's own run limit. A stale bank never produces
 * snapshot_ready. Once per run, at any time: SIGTERM to the watchdog, the
 * watchdog's envelope tripping.
 *
 * Supervisor: runs sup_dispatch() on each event from the environment or
 * the watchdog, and EV_watchdog_lost once it sees EOF from a crashed
 * watchdog (its row ends the run, reporting nothing). Once per run it may
 * instead crash (EOF at the watchdog),
 * hang (heartbeats stop: the watchdog's heartbeat timeout fires; a
 * heartbeat is modelled as "alive and not hung", the timeout as the
 * watchdog noticing sup_hung), or turn rogue (compromised: sends up to
 * ROGUE_MAX calibration requests in any order, keeps heartbeating).
 *
 * Watchdog (issue 5, shared/proto.h): the whitelist (calibration values
 * only in a grid run with --confirm, charger before output, never after a
 * revert started; a violation is refused, reverts if dirty and kills the
 * supervisor; a revert in progress or an intent mark that cannot be
 * written is an operational refusal); the durable intent mark written
 * before a calibration value is published (dirty_out/dirty_chg survive a
 * watchdog crash); a calibration value not confirmed within set_confirm_ms
 * makes it revert on its own; everyday requests start its own revert; its
 * own revert on EOF/child exit, heartbeat loss, SIGTERM, run limit and
 * envelope; a revert publishes output then charger and republishes each
 * until the readback confirms; a crashed watchdog (SIGKILL) is restarted
 * with `recover`, which reverts if the mark is set. Heartbeat counting,
 * backoff timing and the audit log are not modelled.
 *
 * Plant: lvx-control applies a published value to both units at once; the
 * readback of every unit is plant_out/plant_chg. A publish waits in its
 * topic's slot until delivered (QoS 1 keeps order); a wedged control queue
 * swallows up to MAX_DROPS publishes in all.
 */

#ifndef ENV_BUDGET
/* environment events per run: a grid PASS takes 7 (start, snapshot,
 * engaged, bulk, tapered, taper held, snapshot); one more leaves room for
 * an abort or a second hold after the verification */
#define ENV_BUDGET	8
#endif
#ifndef MAX_FAULTS
#define MAX_FAULTS	1	/* crashes, hangs, rogue, SIGTERM, envelope, mark */
#endif
#ifndef MAX_DROPS
#define MAX_DROPS	2	/* publishes a wedged control queue swallows */
#endif
#ifndef ROGUE_MAX
#define ROGUE_MAX	2	/* requests a rogue supervisor sends */
#endif

/* ---- the plant ---- */
#define V_NONE		0
byte plant_out = V_EVERYDAY, plant_chg = V_EVERYDAY;	/* readbacks */
byte slot_out = V_NONE, slot_chg = V_NONE;	/* publishes on their way */
byte drops = MAX_DROPS;

/* ---- channels ---- */
chan to_wd = [4] of { byte, byte };	/* SET_REQUEST {setting, value} */
chan wd_ev = [3] of { byte };		/* answers, as table events */
chan env_ev = [1] of { byte };		/* telemetry, timers, signals */

byte faults = MAX_FAULTS;

/* ---- the supervisor process ---- */
bit sup_exited, sup_hung, sup_rogue, sup_killed;
bit wd_eof;		/* the watchdog died: the supervisor sees EOF */
#define SUP_READING	(!sup_exited && !sup_hung && !sup_rogue && \
			 !sup_killed && !IS_TERMINAL(sup_state))

/* ---- the watchdog ---- */
bit dirty_out, dirty_chg;	/* the durable intent mark, per setting */
#define WD_DIRTY	(dirty_out || dirty_chg)
bit cal_confirmed_chg, cal_confirmed_out;	/* volatile: confirmed once */
bit wd_locked;			/* volatile: a revert started this run */
byte awaiting;			/* volatile: calibration value awaiting readback */
bit wd_alarm;			/* retained alarm while a revert is unconfirmed */
bit wd_finished;
bit cal_published;		/* ghost */
bit wd_sigterm, envelope_trip, wd_run_expired;

/*
 * What the whitelist permits for a calibration value of setting s
 * (PERMITTED) and the revert order (WD_REVERT_STEPS) are generated from
 * spec/watchdog.yaml into build/gen/watchdog_rules.pml, which
 * spec/modelcheck.sh includes before this file: the same rules the
 * watchdog's C tables are generated from.
 */

#define PLANT_CLEAN	(plant_out == V_EVERYDAY && plant_chg == V_EVERYDAY)
#define CAL_ANYWHERE	(plant_out == V_CALIBRATION || \
			 plant_chg == V_CALIBRATION || \
			 slot_out == V_CALIBRATION || slot_chg == V_CALIBRATION)

proctype plant()
{
end_plant:
	do
	:: atomic { slot_out != V_NONE ->
		if
		:: drops > 0 -> drops--
		:: plant_out = slot_out
		fi;
		slot_out = V_NONE }
	:: atomic { slot_chg != V_NONE ->
		if
		:: drops > 0 -> drops--
		:: plant_chg = slot_chg
		fi;
		slot_chg = V_NONE }
	od
}

/* A frame to the supervisor; lost if nobody reads the socket any more. */
inline notify(ev)
{
	if
	:: nfull(wd_ev) -> wd_ev!ev
	:: full(wd_ev) -> assert(!SUP_READING)
	fi
}

/*
 * Publish everyday, wait for the readback, republish whenever the confirm
 * timer fires before it shows. The previous publish on the topic is
 * delivered (or swallowed) first: QoS 1 keeps order. The watchdog may be
 * killed at any point of this.
 */
inline confirm_everyday(slot, readback)
{
	slot == V_NONE;
	slot = V_EVERYDAY;
	do
	:: readback == V_EVERYDAY -> break
	:: readback != V_EVERYDAY && slot == V_NONE -> slot = V_EVERYDAY
	:: faults > 0 -> faults--;
		printf("MSC: fault: watchdog killed mid-revert\n");
		goto crashed
	od
}

/* The watchdog's own revert, in spec/watchdog.yaml's revert_order. */
inline wd_revert()
{
	wd_locked = 1;
	awaiting = 0;
	wd_alarm = WD_DIRTY;
	WD_REVERT_STEPS;
	wd_alarm = 0;
	printf("MSC: wd: revert confirmed by readback\n")
}

/*
 * A permitted calibration value: write the mark, publish; the readback
 * (or the confirm timer) is awaited by the main loop, so that the plant
 * can act meanwhile.
 */
inline set_calibration(s)
{
	if
	:: faults > 0 -> faults--;
		printf("MSC: fault: intent mark not written: refused\n");
		notify(EV_watchdog_refused)
	:: true ->
		cal_published = 1;
		printf("MSC: wd: mark written, calibration value %d published\n", s);
		if
		:: s == SET_CHARGER ->
			dirty_chg = 1;
			slot_chg == V_NONE;
			slot_chg = V_CALIBRATION
		:: s == SET_OUTPUT ->
			dirty_out = 1;
			slot_out == V_NONE;
			slot_out = V_CALIBRATION
		fi;
		awaiting = s
	fi
}

proctype watchdog()
{
	byte s, v;

end_wait:
	do
	:: atomic { awaiting == SET_CHARGER && plant_chg == V_CALIBRATION ->
		awaiting = 0;
		cal_confirmed_chg = 1;
		notify(EV_charger_calibration_confirmed) }
	:: atomic { awaiting == SET_OUTPUT && plant_out == V_CALIBRATION ->
		awaiting = 0;
		cal_confirmed_out = 1;
		notify(EV_output_calibration_confirmed) }
	:: atomic { (awaiting == SET_CHARGER && plant_chg != V_CALIBRATION) ||
	    (awaiting == SET_OUTPUT && plant_out != V_CALIBRATION) ->
		/* set_confirm_ms expired without the readback */
		notify(EV_watchdog_reverted);
		wd_revert() }
	:: atomic { awaiting == 0 && nempty(to_wd) -> to_wd?s,v ->
		if
		:: v == V_CALIBRATION && !PERMITTED(s) ->
			/* violation: refuse, kill, revert if dirty */
			printf("MSC: wd: request %d refused: violation\n", s);
			notify(EV_watchdog_refused);
			goto kill
		:: v == V_CALIBRATION && PERMITTED(s) && wd_locked ->
			notify(EV_watchdog_refused)	/* reverting */
		:: v == V_CALIBRATION && PERMITTED(s) && !wd_locked ->
			set_calibration(s)
		:: v == V_EVERYDAY ->
			wd_revert();
			if
			:: s == SET_OUTPUT ->
				notify(EV_output_everyday_confirmed)
			:: s == SET_CHARGER ->
				notify(EV_charger_everyday_confirmed)
			fi
		fi;
		s = 0;
		v = 0 }
	:: atomic { sup_exited && empty(to_wd) -> goto over }	/* EOF */
	:: atomic { sup_hung -> goto kill }	/* heartbeat timeout */
	:: atomic { wd_sigterm -> goto kill }
	:: atomic { wd_run_expired -> goto kill }
	:: atomic { envelope_trip && !wd_locked ->
		if
		:: WD_DIRTY -> notify(EV_watchdog_reverted); wd_revert()
		:: else -> wd_locked = 1
		fi }
	:: atomic { faults > 0 -> faults--;
		printf("MSC: fault: watchdog killed\n");
		goto crashed }
	od;
kill:
	sup_killed = 1;
over:
	if
	:: WD_DIRTY -> wd_revert()
	:: else -> skip
	fi;
	wd_finished = 1;
	goto stop;
crashed:
	/*
	 * SIGKILL: volatile state and anything not yet handed to the broker
	 * are lost; the supervisor sees EOF (watchdog_lost) and exits. The
	 * restarted watchdog (`recover`) finds the intent mark and reverts.
	 */
	wd_eof = 1;
	cal_confirmed_chg = 0;
	cal_confirmed_out = 0;
	wd_locked = 0;
	awaiting = 0;
	if
	:: slot_out = V_NONE
	:: skip
	fi;
	if
	:: slot_chg = V_NONE
	:: skip
	fi;
	if
	:: WD_DIRTY -> wd_revert()
	:: else -> skip
	fi;
	wd_finished = 1;
stop:
	skip
}

proctype supervisor()
{
	byte e, n;

	do
	:: IS_TERMINAL(sup_state) -> break	/* reported: the process exits */
	:: sup_killed -> break
	:: atomic { wd_eof && !sup_killed && !IS_TERMINAL(sup_state) ->
		sup_dispatch(EV_watchdog_lost) }
	:: atomic { !sup_killed && !IS_TERMINAL(sup_state) && nempty(env_ev) ->
		env_ev?e; sup_dispatch(e); e = 0 }
	:: atomic { !sup_killed && !IS_TERMINAL(sup_state) && nempty(wd_ev) ->
		wd_ev?e; sup_dispatch(e); e = 0 }
	:: atomic { faults > 0 && !sup_killed && !IS_TERMINAL(sup_state) ->
		faults--;
		if
		:: printf("MSC: fault: supervisor crashes\n");
			break			/* EOF at the watchdog */
		:: printf("MSC: fault: supervisor hangs\n");
			sup_hung = 1; goto end_hung	/* heartbeats stop */
		:: printf("MSC: fault: supervisor turns rogue\n");
			sup_rogue = 1; goto rogue
		fi }
	od;
	sup_exited = 1;
	goto gone;
rogue:
	/*
	 * Compromised: up to ROGUE_MAX calibration requests, in any order and
	 * at once (everyday requests only start a revert, so they are left
	 * out). Then it keeps heartbeating and never exits by itself.
	 */
	atomic {
		do
		:: n < ROGUE_MAX && nfull(to_wd) ->
			if
			:: to_wd!SET_CHARGER,V_CALIBRATION
			:: to_wd!SET_OUTPUT,V_CALIBRATION
			fi;
			n++
		:: break
		od
	};
end_hung:
	sup_killed || wd_eof;
	sup_exited = 1;
gone:
	skip
}

proctype environment()
{
	byte e, budget = ENV_BUDGET;

	do
	:: atomic { budget > 0 && SUP_READING && nfull(env_ev) &&
#ifdef ENV_ANY_EVENT
	    true ->
		sup_env_any_event(e);
#else
	    SUP_ENV_READY ->
		sup_env_event(e);
#endif
		if
		:: e == EV_snapshot_ready && bank == B_STALE -> skip
		:: else ->
			if
			:: e == EV_taper_held ->
				if
				:: reanchored = 1;
					printf("MSC: env: every pack re-anchored\n")
				:: printf("MSC: env: some pack lags\n")
				fi
			:: else -> skip
			fi;
			printf("MSC: env: event %d\n", e);
			env_ev!e
		fi;
		e = 0;
		budget-- }
	:: atomic { faults > 0 && !wd_sigterm -> faults--; wd_sigterm = 1;
		printf("MSC: fault: SIGTERM to the watchdog\n") }
	:: atomic { faults > 0 && !envelope_trip -> faults--; envelope_trip = 1;
		printf("MSC: fault: the watchdog's envelope trips\n") }
	:: budget == 0 || !SUP_READING -> break
	od;
	/* The run clock: the supervisor's run timer, then the watchdog's. */
	if
	:: env_ev!EV_run_timeout
	:: !SUP_READING -> skip
	fi;
	wd_run_expired = 1
}

init
{
	atomic {
		if
		:: method = M_SOLAR; printf("MSC: run: --method solar\n")
		:: method = M_GRID; printf("MSC: run: --method grid\n")
		fi;
		if
		:: authorised = 1; printf("MSC: run: --confirm\n")
		:: authorised = 0
		fi;
		if
		:: bank = B_DRIFT
		:: bank = B_BALANCED
		:: bank = B_IMBALANCE
		:: bank = B_TEMPERATURE
		:: bank = B_PROTECTION
		:: bank = B_CELL_DELTA
		:: bank = B_CELL_HIGH
		:: bank = B_UNITS
		:: bank = B_STALE
		fi;
		printf("MSC: run: bank class %d (1 drift, 9 stale)\n", bank);
		run plant();
		run watchdog();
		run supervisor();
		run environment()
	}
}
