# tap_count.awk - count a log of one or more TAP streams against their plans.
#
# A stream starts at the top of the log and at every pg_prove header line
# ("test/pgtap/010_schema.sql ...... "); "1..N" anywhere in it is its plan.
# Prints one line "passed failed skipped" where
#   passed   ok lines (not skipped)
#   skipped  ok lines with a "# SKIP" directive
#   failed   not ok lines, plus every planned assertion that never printed,
#            plus one for a stream with assertions but no plan, and one per
#            assertion beyond the plan
# so that passed + failed + skipped is at least what the plans declared. A
# diagnostic line per stream that did not match its plan goes to stderr.
#   awk -f test/lib/tap_count.awk LOG
function finish(   ran) {
	ran = n_ok + n_notok
	if (ran > 0 || name != "") {
		if (plan < 0) {
			if (ran > 0) {
				failed++
				printf "# %s: %d assertions and no plan\n", label(), ran > "/dev/stderr"
			}
		} else if (ran < plan) {
			failed += plan - ran
			printf "# %s: planned %d, ran %d: %d counted as failed\n", label(), plan, ran, plan - ran > "/dev/stderr"
		} else if (ran > plan) {
			failed += ran - plan
			printf "# %s: planned %d, ran %d\n", label(), plan, ran > "/dev/stderr"
		}
	}
	n_ok = 0; n_notok = 0; plan = -1
}
function label() { return name != "" ? name : FILENAME }
BEGIN { plan = -1; name = "" }
/^[^ \t#][^ \t]*\.(sql|sh|py) \.+ *$/ {
	finish()
	name = $1
	next
}
/^[ \t]*1\.\.[0-9]+/ {
	if (plan < 0) { sub(/^[ \t]*1\.\./, ""); plan = $0 + 0 }
	next
}
/^[ \t]*ok [0-9]+/ {
	n_ok++
	if (tolower($0) ~ /# *skip/) skipped++
	else passed++
	next
}
/^[ \t]*not ok [0-9]+/ {
	n_notok++
	failed++
	next
}
END {
	finish()
	printf "%d %d %d\n", passed, failed, skipped
}
