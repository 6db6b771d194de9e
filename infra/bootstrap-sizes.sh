#!/usr/bin/env bash
# Prints the size of each function's bootstrap and fails when one is over
# its limit: `make build` runs it on build/<fn>/bootstrap and `make test` on
# what sam build made.
#
#   infra/bootstrap-sizes.sh api=build/api/bootstrap dispatch=build/dispatch/bootstrap ...
#
# A zipped function may be 50 MB, so the limits are not AWS's: a bootstrap
# over its limit means something heavy crept into the function's dependency
# graph (an AWS service client it does not need, an embedded adapter, a big
# table), which costs every cold start its load time. What each function links: `go version -m build/<fn>/bootstrap`;
# what is biggest: `go tool nm -size -sort size` on a build without
# -ldflags='-s -w'.
set -euo pipefail

# Limits in MiB (1,048,576 bytes): default_mib for every function but the
# ones limits_mib gives their own. api, the one a user waits on, has 16 and
# is at it: 15.94 MiB. A bootstrap grows in steps of 64 KiB (each of its
# three segments, code, read-only data and data, is padded to 64 KiB), so
# what matters is where each segment ends: api's read-only data (string
# constants, type descriptors, function tables) ends less than 1 KB short of
# a boundary, and anything that adds a little to it makes api 16.0 MiB and
# over. The next thing that could give it room: the EventBridge Scheduler
# client, 0.6 MB. The English names of languages that shared/compose puts in
# its prompts are its own generated table (langnames.go, in the data
# segment), not x/text's language/display with every language's names (2.4
# MB). Phone numbers cost nothing here either: package address carries the
# part of libphonenumber's metadata it needs as a generated table, not
# nyaruka/phonenumbers and its protobuf runtime (1.5 MB, and 35,000
# allocations of init at every cold start). time/tzdata (0.4 MB) stays:
# provided.al2023 has no zoneinfo.
default_mib=20
declare -A limits_mib=([api]=16)

status=0
for arg in "$@"; do
	fn=${arg%%=*} file=${arg#*=}
	mib=${limits_mib[$fn]:-$default_mib}
	size=$(wc -c <"$file")
	printf '  %-12s %6.1f MiB (limit %s MiB)\n' "$fn" "$(awk "BEGIN { print $size / 1048576 }")" "$mib"
	if [ "$size" -gt $((mib * 1048576)) ]; then
		echo "$file is $size bytes, over $fn's limit of $mib MiB ($((mib * 1048576)) bytes)" >&2
		status=1
	fi
done
exit "$status"
