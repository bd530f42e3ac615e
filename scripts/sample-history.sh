#!/usr/bin/env bash
# Replay sample-sms/ into a fresh git repository with a realistic, dated history, so that the
# history features of auditbook (version history per document, approvals corroborated by
# `Approved-by:` trailers, record dates against commit dates, "changes since") have something real
# to show.
#
# Usage: scripts/sample-history.sh [--sample DIR] OUT
#
#   OUT       a folder that does not exist yet, or is empty; it becomes the repository
#   --sample  the SMS to replay (default: sample-sms/ next to this script's folder)
#
# The history, built from the sample's own frontmatter and record dates:
#   1. An import commit on the import date (SAMPLE_IMPORT_DATE, default 2026-01-05) by the SMS manager:
#      sms.yaml, READMEs, every document approved on or before the baseline, the previous approved
#      version of every document revised during the year (one version lower, approved a year
#      earlier, without its last section), and every record dated on or before the baseline.
#   2. For every document approved after the baseline, a pull-request style branch
#      `review/<id>`: a draft or in-review commit by the owner 10 to 28 days before approval, the
#      approval commit on the approval date, then a merge into main by the approver on that date
#      with an `Approved-by:` trailer naming the approver (written by the approver, so it
#      corroborates the approval; a trailer written by the author would be only a claim).
#   3. Documents still in draft are committed on main by their owner.
#   4. Records are committed on the day they are dated, by the person whose role fits the kind;
#      records in a `records:` list file are added to the file one by one, on their own dates.
# At the end the work tree must equal the sample byte for byte, and the script checks it does.
#
# Deterministic: fixed authors (from sms.yaml `people`), fixed dates and times (Europe/London
# offsets), fixed messages, the user's git configuration ignored; the same sample gives the same
# commit ids on any machine. Needs bash, git (2.x) and the POSIX tools awk, sed, sort, cksum, cmp.

set -euo pipefail

usage() {
    sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

here="$(cd "$(dirname "$0")" && pwd)"
sample="$here/../sample-sms"
out=""
while [ $# -gt 0 ]; do
    case "$1" in
        --sample) [ $# -ge 2 ] || usage; sample="$2"; shift 2 ;;
        -h|--help) usage ;;
        -*) echo "sample-history: unknown option $1" >&2; usage ;;
        *) [ -z "$out" ] || usage; out="$1"; shift ;;
    esac
done
[ -n "$out" ] || usage
[ -f "$sample/sms.yaml" ] || { echo "sample-history: no sms.yaml in $sample" >&2; exit 2; }
sample="$(cd "$sample" && pwd)"
if [ -e "$out" ] && [ -n "$(ls -A "$out" 2>/dev/null)" ]; then
    echo "sample-history: $out exists and is not empty; give a new folder" >&2
    exit 2
fi
mkdir -p "$out"
out="$(cd "$out" && pwd)"

# Keep the user's configuration and environment out of the result.
export LC_ALL=C TZ=UTC GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_OBJECT_DIRECTORY GIT_ALTERNATE_OBJECT_DIRECTORIES \
    GIT_AUTHOR_NAME GIT_AUTHOR_EMAIL GIT_AUTHOR_DATE GIT_COMMITTER_NAME GIT_COMMITTER_EMAIL \
    GIT_COMMITTER_DATE GIT_TEMPLATE_DIR 2>/dev/null || true

work="$(mktemp -d "${TMPDIR:-/tmp}/sample-history.XXXXXX")"
trap 'rm -rf "$work"' EXIT

g() { git -C "$out" "$@"; }

# --- small helpers (awk does the date arithmetic: no GNU date needed) -------------------------

# days_to_date N / date_to_days YYYY-MM-DD: civil calendar <-> day number.
AWK_DATES='
function dn(y, m, d,   a) { a = int((14 - m) / 12); y = y + 4800 - a; m = m + 12 * a - 3;
    return d + int((153 * m + 2) / 5) + 365 * y + int(y / 4) - int(y / 100) + int(y / 400) - 32045 }
function todays(s,   p) { split(s, p, "-"); return dn(p[1] + 0, p[2] + 0, p[3] + 0) }
function fromdays(n,   a, b, c, d, e, m, day, mon, yr) { a = n + 32044; b = int((4 * a + 3) / 146097);
    c = a - int(146097 * b / 4); d = int((4 * c + 3) / 1461); e = c - int(1461 * d / 4);
    m = int((5 * e + 2) / 153); day = e - int((153 * m + 2) / 5) + 1; mon = m + 3 - 12 * int(m / 10);
    yr = 100 * b + d - 4800 + int(m / 10); return sprintf("%04d-%02d-%02d", yr, mon, day) }
function weekday(n) { return (n + 1) % 7 }   # 0 = Sunday
function lastsunday(y, m,   n) { n = dn(y, m + 1, 1) - 1; while (weekday(n) != 0) n--; return n }
function offset(s,   p, n) { split(s, p, "-"); n = todays(s);
    return (n >= lastsunday(p[1] + 0, 3) && n < lastsunday(p[1] + 0, 10)) ? "+0100" : "+0000" }
'
add_days() { awk -v s="$1" -v k="$2" "$AWK_DATES"'BEGIN { print fromdays(todays(s) + k) }'; }
# Move a date back to the Friday before when it falls on a weekend.
weekday_before() { awk -v s="$1" "$AWK_DATES"'BEGIN { n = todays(s); while (weekday(n) == 0 || weekday(n) == 6) n--; print fromdays(n) }'; }
tz_offset() { awk -v s="$1" "$AWK_DATES"'BEGIN { print offset(s) }'; }
# A whole number from a string, the same on every machine.
hash_of() { printf '%s' "$1" | cksum | awk '{ print $1 }'; }

# The items of a `records:` list file, block or flow style: index <TAB> date <TAB> id.
AWK_ITEMS='
BEGIN { ind = -1 }
# Whether a line starts an item of the list: "- " at the indentation of the first item.
function isitem(s,   p) { if (!match(s, /^[ \t]*- /)) return 0; p = RLENGTH - 2; if (ind < 0) ind = p; return p == ind }
function field(s, k,   re) { re = "(^|[{, \t-])" k ":[ \t]*[^,}# \t]+"
    if (!match(s, re)) return ""; s = substr(s, RSTART, RLENGTH); sub("^.*" k ":[ \t]*", "", s)
    gsub(/["\047]/, "", s); return s }
'
list_items() { # list_items FILE
    awk "$AWK_ITEMS"'
        function out() { if (n) print n "\t" d "\t" id }
        /^records:/ { l = 1; next }
        l && isitem($0) { out(); n++; d = ""; id = "" }
        l && n { if (d == "") d = field($0, "date"); if (id == "") id = field($0, "id") }
        END { out() }' "$1"
}

# The value of a top-level `key:` in a YAML frontmatter or record (first occurrence, unquoted).
fm() { # fm FILE KEY
    awk -v k="$2" '
        NR == 1 && $0 == "---" { infm = 1; next }
        infm && ($0 == "---" || $0 == "...") { exit }
        index($0, k ":") == 1 { v = substr($0, length(k) + 2); sub(/^[ \t]+/, "", v); sub(/[ \t]+#.*$/, "", v);
            gsub(/^["\047]|["\047]$/, "", v); print v; exit }
    ' "$1"
}
rec_field() { # rec_field FILE KEY (a single-record YAML file)
    awk -v k="$2" 'index($0, k ":") == 1 { v = substr($0, length(k) + 2); sub(/^[ \t]+/, "", v);
        sub(/[ \t]+#.*$/, "", v); gsub(/^["\047]|["\047]$/, "", v); print v; exit }' "$1"
}

# --- people ------------------------------------------------------------------------------------

# people.tsv: id <TAB> name <TAB> role <TAB> first e-mail
awk '
    function flush() { if (id != "") print id "\t" (name == "" ? id : name) "\t" role "\t" email; id = name = role = email = "" }
    function val(s) { sub(/^[^:]*:[ \t]*/, "", s); sub(/[ \t]+#.*$/, "", s); gsub(/^["\047]|["\047]$/, "", s); return s }
    /^people:/ { inp = 1; next }
    inp && /^[^ \t#-]/ { flush(); inp = 0 }
    inp && /^[ \t]*-[ \t]+id:/ { flush(); s = $0; sub(/^[ \t]*-[ \t]+/, "", s); id = val(s); next }
    inp && /^[ \t]+name:/ { name = val($0); next }
    inp && /^[ \t]+role:/ { role = val($0); next }
    inp && /^[ \t]+emails:/ { s = $0; sub(/^[^\[]*\[/, "", s); sub(/[],].*$/, "", s); gsub(/[ \t"\047]/, "", s); email = s; next }
    END { flush() }
' "$sample/sms.yaml" > "$work/people.tsv"
[ -s "$work/people.tsv" ] || { echo "sample-history: sms.yaml lists no people with e-mails" >&2; exit 2; }

person_by_role() { awk -F'\t' -v r="$1" '$3 == r { print $1; exit }' "$work/people.tsv"; }
fallback="$(person_by_role quality-manager)"
[ -n "$fallback" ] || fallback="$(head -n 1 "$work/people.tsv" | cut -f1)"
# A person id, or the fallback when the text is not a person id of sms.yaml.
person() { if awk -F'\t' -v p="$1" '$1 == p { f = 1 } END { exit !f }' "$work/people.tsv"; then echo "$1"; else echo "$fallback"; fi; }
name_of() { awk -F'\t' -v p="$1" '$1 == p { print $2 }' "$work/people.tsv"; }
email_of() { awk -F'\t' -v p="$1" '$1 == p { print $4 }' "$work/people.tsv"; }
# ident PERSON: sets $ident_name and $ident_email (cached: commits come in runs by one person).
ident_who=""; ident_name=""; ident_email=""
ident() {
    [ "$1" != "$ident_who" ] || return 0
    ident_who="$1"; ident_name="$(name_of "$1")"; ident_email="$(email_of "$1")"
}
# Who records a kind of record: the role that does the work, else the SMS manager.
recorder() {
    local role
    case "$1" in
        change|release|configuration-item) role=change-manager ;;
        incident|service-request|problem|known-error|availability-report|service-report|continuity-test|complaint) role=service-delivery-manager ;;
        security-incident) role=information-security-officer ;;
        supplier-review|supplier-dispute) role=commercial-manager ;;
        audit-programme|internal-audit) role=internal-auditor ;;
        *) role=quality-manager ;;
    esac
    local p; p="$(person_by_role "$role")"
    echo "${p:-$fallback}"
}

# The day the replayed SMS moves into git. It is not the sample's `history.baseline`: that one
# marks the day the sample entered auditbook's own repository (everything committed there is an
# import), while this replay tells the year before it.
baseline="${SAMPLE_IMPORT_DATE:-2026-01-05}"
case "$baseline" in
    [0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]) ;;
    *) echo "sample-history: SAMPLE_IMPORT_DATE must be YYYY-MM-DD" >&2; exit 2 ;;
esac

# --- plan the events ---------------------------------------------------------------------------

# events.tsv: date <TAB> order <TAB> type <TAB> path [<TAB> item index]
: > "$work/events.tsv"
: > "$work/import.list"
mkdir -p "$work/import"

# The previous approved version of a document: one version lower, approved a year earlier,
# without its last `## ` section when it has three or more.
previous_text() { # previous_text FILE PREV_VERSION PREV_DATE
    awk -v pv="$2" -v pd="$3" '
        { line[NR] = $0 }
        NR == 1 && $0 == "---" { infm = 1; next }
        infm && ($0 == "---" || $0 == "...") { infm = 0; bodystart = NR + 1; next }
        !infm && bodystart && /^## / { nsec++; last = NR }
        END {
            stop = (nsec >= 3) ? last - 1 : NR
            while (stop > 0 && line[stop] == "") stop--
            for (i = 1; i <= stop; i++) {
                s = line[i]
                if (i < bodystart && s ~ /^version:/) s = "version: \"" pv "\""
                else if (i < bodystart && s ~ /^approved:/) s = "approved: " pd
                print s
            }
        }' "$1"
}
# The text of a document under review: the final text, not yet approved.
review_text() { # review_text FILE STATUS
    awk -v st="$2" '
        NR == 1 && $0 == "---" { infm = 1; print; next }
        infm && ($0 == "---" || $0 == "...") { infm = 0 }
        infm && /^status:/ { print "status: " st; next }
        infm && /^approved:/ { next }
        { print }' "$1"
}
prev_version() { # dotted or integer: lower the last part; "1.0" and "1" have none
    awk -v v="$1" 'BEGIN { n = split(v, p, "."); for (i = 1; i <= n; i++) if (p[i] !~ /^[0-9]+$/) exit
        if (p[n] + 0 > 0) { p[n] = p[n] - 1 } else if (n > 1 && p[1] + 0 > 1) { p[1] = p[1] - 1 } else exit
        s = p[1]; for (i = 2; i <= n; i++) s = s "." p[i]; print s }'
}

to_import() { # to_import REL [FILE_WITH_CONTENT]
    mkdir -p "$work/import/$(dirname "$1")"
    cp "${2:-$sample/$1}" "$work/import/$1"
    echo "$1" >> "$work/import.list"
}

records_dir="$(awk '/^paths:/ { p = 1; next } p && /^[^ \t]/ { p = 0 } p && /^[ \t]+records:/ { s = $0; sub(/^[^:]*:[ \t]*/, "", s); sub(/[ \t]+#.*$/, "", s); gsub(/["\047\/]/, "", s); print s; exit }' "$sample/sms.yaml")"
records_dir="${records_dir:-records}"

# Every file of the sample except git's own folder and the evidence-site output.
(cd "$sample" && find . -mindepth 1 \( -name .git -o -path ./_site \) -prune -o -type f -print \
    | sed 's|^\./||' | sort) > "$work/files.list"

while IFS= read -r rel; do
    f="$sample/$rel"
    if [ "$rel" = sms.yaml ]; then
        to_import "$rel"
        continue
    fi
    case "$rel" in
        "$records_dir"/*.yaml|"$records_dir"/*.yml)
            if grep -q '^records:' "$f"; then
                # A list file: each item gets its own event; items without a date are imported.
                list_items "$f" > "$work/items.tsv"
                while IFS="$(printf '\t')" read -r idx d _; do
                    case "$d" in [0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]) ;; *) continue ;; esac
                    [ "$d" \> "$baseline" ] || continue   # in the import already
                    printf '%s\t2\trecord-item\t%s\t%s\n' "$d" "$rel" "$idx" >> "$work/events.tsv"
                done < "$work/items.tsv"
                printf '%s\t0\tlist-header\t%s\n' "$baseline" "$rel" >> "$work/events.tsv"
            else
                d="$(rec_field "$f" date)"
                case "$d" in [0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]) ;; *) d="$baseline" ;; esac
                if [ ! "$d" \> "$baseline" ]; then to_import "$rel"; else
                    printf '%s\t2\trecord\t%s\n' "$d" "$rel" >> "$work/events.tsv"
                fi
            fi
            continue ;;
    esac
    if [ "${rel##*.}" != md ] || [ "$(head -n 1 "$f")" != "---" ]; then
        to_import "$rel"   # READMEs, images, sidecars: there from the start
        continue
    fi
    status="$(fm "$f" status)"; approved="$(fm "$f" approved)"; version="$(fm "$f" version)"
    id="$(fm "$f" id)"
    case "$status" in
        approved)
            case "$approved" in [0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]) ;; *) to_import "$rel"; continue ;; esac
            if [ ! "$approved" \> "$baseline" ]; then to_import "$rel"; continue; fi
            lead=$(( 10 + $(hash_of "$id") % 19 ))
            drafted="$(weekday_before "$(add_days "$approved" "-$lead")")"
            [ "$drafted" \> "$baseline" ] || drafted="$(add_days "$baseline" 1)"
            [ "$drafted" \< "$approved" ] || drafted="$approved"
            pv="$(prev_version "$version")"
            if [ -n "$pv" ]; then
                previous_text "$f" "$pv" "$(add_days "$approved" -365)" > "$work/prev.md"
                to_import "$rel" "$work/prev.md"
            fi
            printf '%s\t1\tdraft\t%s\n' "$drafted" "$rel" >> "$work/events.tsv"
            printf '%s\t3\tapprove\t%s\n' "$approved" "$rel" >> "$work/events.tsv" ;;
        draft|in-review)
            # A revision in progress: started a week or two before the sample's reference date.
            d="$(weekday_before "$(add_days 2026-11-26 "-$(( 7 + $(hash_of "$id") % 8 ))")")"
            [ "$d" \> "$baseline" ] || d="$(add_days "$baseline" 1)"
            printf '%s\t1\tondraft\t%s\n' "$d" "$rel" >> "$work/events.tsv" ;;
        *) to_import "$rel" ;;
    esac
done < "$work/files.list"

sort -t "$(printf '\t')" -k1,1 -k2,2n -k4,4 -k5,5n "$work/events.tsv" > "$work/events.sorted"

# --- replay ------------------------------------------------------------------------------------

git init -q "$out"
g symbolic-ref HEAD refs/heads/main
g config core.autocrlf false
g config commit.gpgsign false
g config core.fileMode true

clock_date=""
clock_n=0
clock_offset=""
stamp() { # stamp DATE: sets $when to "DATE HH:MM:00 +ZZZZ", 7 minutes later for each commit of a day
    if [ "$1" != "$clock_date" ]; then clock_date="$1"; clock_n=0; clock_offset="$(tz_offset "$1")"; fi
    clock_n=$((clock_n + 1))
    local mins=$((9 * 60 + clock_n * 7))
    [ $mins -le 1439 ] || mins=1439
    local hh=$((mins / 60)) mm=$((mins % 60))
    [ $hh -ge 10 ] || hh="0$hh"
    [ $mm -ge 10 ] || mm="0$mm"
    when="$1 $hh:$mm:00 $clock_offset"
}
commit_as() { # commit_as PERSON DATE MESSAGE [git commit args...]
    local when=""; stamp "$2"; ident "$1"; local msg="$3"; shift 3
    GIT_AUTHOR_NAME="$ident_name" GIT_AUTHOR_EMAIL="$ident_email" GIT_AUTHOR_DATE="$when" \
    GIT_COMMITTER_NAME="$ident_name" GIT_COMMITTER_EMAIL="$ident_email" GIT_COMMITTER_DATE="$when" \
        g commit -q --no-verify -m "$msg" "$@"
}
merge_as() { # merge_as PERSON DATE BRANCH MESSAGE
    local when=""; stamp "$2"; ident "$1"
    GIT_AUTHOR_NAME="$ident_name" GIT_AUTHOR_EMAIL="$ident_email" GIT_AUTHOR_DATE="$when" \
    GIT_COMMITTER_NAME="$ident_name" GIT_COMMITTER_EMAIL="$ident_email" GIT_COMMITTER_DATE="$when" \
        g merge -q --no-ff -m "$4" "$3"
}
put() { # put REL SOURCE: copy into the work tree and stage
    mkdir -p "$out/$(dirname "$1")"
    cp "$2" "$out/$1"
    g add -- "$1"
}

# 1. The import.
while IFS= read -r rel; do put "$rel" "$work/import/$rel"; done < "$work/import.list"
# List files start as their header with the items dated on or before the baseline.
list_file() { # list_file REL UPTO_DATE -> the list file with the items dated up to UPTO_DATE
    awk -v upto="$2" "$AWK_ITEMS"'
        function flushitem() { if (n && (d == "" || d <= upto)) printf "%s", item; item = "" }
        !l { print; if (/^records:/) l = 1; next }
        isitem($0) { flushitem(); n++; d = "" }
        !n { print; next }
        { item = item $0 "\n"; if (d == "") d = field($0, "date") }
        END { flushitem() }' "$sample/$1"
}
awk -F'\t' '$3 == "list-header" { print $4 }' "$work/events.sorted" | sort -u > "$work/lists"
while IFS= read -r rel; do
    list_file "$rel" "$baseline" > "$work/list.yaml"
    put "$rel" "$work/list.yaml"
done < "$work/lists"
commit_as "$fallback" "$baseline" "Import the SMS from the previous document store

Documents and records as they stood on $baseline. Earlier versions were kept
outside git."

# 2-4. The year.
pr=0
pending_date=""; pending_who=""; pending_ids=""; pending_n=0
flush_records() {
    [ "$pending_n" -gt 0 ] || return 0
    local msg
    if [ "$pending_n" -eq 1 ]; then msg="Record $pending_ids"; else msg="Record $pending_n records: $pending_ids"; fi
    commit_as "$pending_who" "$pending_date" "$msg"
    pending_date=""; pending_who=""; pending_ids=""; pending_n=0
}
while IFS="$(printf '\t')" read -r date order type rel idx; do
    case "$type" in
        list-header) continue ;;
        record|record-item)
            if [ "$type" = record ]; then
                kind="$(rec_field "$sample/$rel" kind)"; rid="$(rec_field "$sample/$rel" id)"
            else
                kind="$(basename "$(dirname "$rel")")"
                rid="$(list_items "$sample/$rel" | awk -F'\t' -v want="$idx" '$1 == want { print $3 }')"
            fi
            who="$(recorder "$kind")"
            if [ "$pending_n" -gt 0 ] && { [ "$pending_date" != "$date" ] || [ "$pending_who" != "$who" ]; }; then flush_records; fi
            if [ "$type" = record ]; then put "$rel" "$sample/$rel"; else
                list_file "$rel" "$date" > "$work/list.yaml"; put "$rel" "$work/list.yaml"
            fi
            pending_date="$date"; pending_who="$who"; pending_n=$((pending_n + 1))
            if [ "$pending_n" -le 4 ]; then pending_ids="${pending_ids:+$pending_ids, }$rid"; elif [ "$pending_n" -eq 5 ]; then pending_ids="$pending_ids, …"; fi
            continue ;;
    esac
    flush_records
    f="$sample/$rel"
    id="$(fm "$f" id)"; title="$(fm "$f" title)"; version="$(fm "$f" version)"
    owner="$(person "$(fm "$f" owner)")"
    branch="review/$(printf '%s' "$id" | tr 'A-Z' 'a-z')"
    case "$type" in
        draft)
            g checkout -q -b "$branch" main
            if g cat-file -e "main:$rel" 2>/dev/null; then
                review_text "$f" in-review > "$work/doc.md"; put "$rel" "$work/doc.md"
                commit_as "$owner" "$date" "Revise $id for version $version

$title: revised text, ready for review."
            else
                review_text "$f" draft > "$work/doc.md"; put "$rel" "$work/doc.md"
                commit_as "$owner" "$date" "Draft $title ($id $version)"
            fi
            g checkout -q main ;;
        approve)
            approver="$(person "$(fm "$f" approver)")"
            g checkout -q "$branch"
            put "$rel" "$f"
            commit_as "$owner" "$date" "Mark $id $version approved"
            g checkout -q main
            pr=$((pr + 1))
            merge_as "$approver" "$date" "$branch" "Merge pull request #$pr from $branch

Approve $id $version: $title

Approved-by: $(name_of "$approver") <$(email_of "$approver")>"
            g branch -q -D "$branch" ;;
        ondraft)
            put "$rel" "$f"
            commit_as "$owner" "$date" "Start $title ($id $version, $(fm "$f" status))" ;;
    esac
done < "$work/events.sorted"
flush_records

# --- check the result --------------------------------------------------------------------------

status_out="$(g status --porcelain)"
if [ -n "$status_out" ]; then
    echo "sample-history: the replay left uncommitted changes:" >&2
    echo "$status_out" >&2
    exit 1
fi
while IFS= read -r rel; do
    cmp -s "$sample/$rel" "$out/$rel" || { echo "sample-history: $rel differs from the sample after the replay" >&2; exit 1; }
done < "$work/files.list"
extra="$(cd "$out" && g ls-files | sort | comm -13 "$work/files.list" -)"
[ -z "$extra" ] || { echo "sample-history: files not in the sample: $extra" >&2; exit 1; }

echo "Replayed $(basename "$sample") into $out: $(g rev-list --count HEAD) commits ($(g rev-list --count --first-parent HEAD) on main, $pr approvals), $baseline to $(g log -1 --format=%cd --date=short)."
echo "Try: auditbook check $out --as-of 2026-12-07"
