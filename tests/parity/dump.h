/*
 * Every value of a loaded profile that the watchdog uses, one per line,
 * numbers exactly (%a). Included twice: by full.c against
 * shared/profile.h and by view.c against watchdog/conf.h, whose members
 * and enumerators have the same names (their values may differ).
 */
static void
dump(FILE *fp, const struct profile *pf)
{
	const struct profile_limits *l = &pf->limits;
	const struct profile_timing *t = &pf->timing;
	const struct field_spec *fs[PF_COUNT + UF_COUNT];
	int n = 0;

	fprintf(fp, "digest %s\nsite %s\nbroker %s %d %d\ntls %s|%s|%s\n",
	    pf->digest_hex, pf->site, pf->broker_host, (int)pf->broker_port,
	    pf->broker_keepalive_s, pf->broker_tls_ca, pf->broker_tls_cert,
	    pf->broker_tls_key);
	fprintf(fp, "credentials %s %s\npaths %s %s %s %s\nbank %d %d %d\n",
	    pf->cred_watchdog, pf->cred_supervisor, pf->state_dir,
	    pf->audit_log, pf->supervisor_path, pf->supervisor_user, pf->packs,
	    pf->units, pf->n_temps);
	fs[n++] = &pf->pack_field[PF_SOC];
	fs[n++] = &pf->pack_field[PF_CELL_VOLTAGE_MAX];
	for (int k = 0; k < pf->n_temps; k++)
		fs[n++] = &pf->pack_field[PF_TEMP + k];
	fs[n++] = &pf->unit_field[UF_OUTPUT_PRIORITY];
	fs[n++] = &pf->unit_field[UF_CHARGER_PRIORITY];
	for (int i = 0; i < n; i++)
		fprintf(fp, "field %s topic=%s unit=%d min=%a max=%a format=%d "
		    "pointer=%s scale=%a sign=%d\n", fs[i]->name, fs[i]->topic,
		    (int)fs[i]->unit, fs[i]->min, fs[i]->max, (int)fs[i]->format,
		    fs[i]->format == PL_JSON ? fs[i]->pointer : "", fs[i]->scale,
		    fs[i]->sign);
	for (int s = 0; s < SETTING_COUNT; s++)
		fprintf(fp, "control %d topic=%s values=%s|%s readbacks=%s|%s "
		    "fold=%d\n", s, pf->control[s].topic, pf->control[s].value[0],
		    pf->control[s].value[1], pf->control[s].readback[0],
		    pf->control[s].readback[1], (int)pf->control[s].fold);
	fprintf(fp, "per_unit %d\nalarm %s\n", (int)pf->control_per_unit,
	    pf->alarm_topic);
	fprintf(fp, "limits reanchor=%a env_cell=%a env_temp=%a stale=%lld\n",
	    l->verify_reanchor_pct, l->env_cell_v, l->env_temp_max_c,
	    (long long)l->env_stale_ms);
	fprintf(fp, "timing %lld %lld %lld %lld %lld %lld %lld %lld %lld %lld\n",
	    (long long)t->telemetry_max_age_ms, (long long)t->preflight_wait_ms,
	    (long long)t->set_confirm_ms, (long long)t->run_max_ms,
	    (long long)t->heartbeat_interval_ms,
	    (long long)t->heartbeat_timeout_ms, (long long)t->revert_confirm_ms,
	    (long long)t->revert_retry_ms, (long long)t->revert_retry_max_ms,
	    (long long)t->progress_interval_ms);
}
