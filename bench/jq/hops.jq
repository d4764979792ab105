# bench/jq/hops.jq - the profile ops of the three CDP hops of
# examples/cdp/migrations as jq functions, one jq step per op and in the
# same order, for bench/20-upgrade.sh:
#   jq -c -L bench/jq 'include "hops"; hop1 | hop2' in.ndjson          (to 0.8.0)
#   jq -c -L bench/jq 'include "hops"; hop1 | hop2 | hop3' in.ndjson   (to 0.8.1)
# Op semantics as in src/migrate/migrate.h: default sets when absent or
# null; convert to integer keeps integral numbers, parses strings holding
# one and maps true/false to 1/0, else fails; rename moves a present value
# (null included) and creates the objects on the way; remove and set as
# named. hop3 is 0.8.1/profile.lua written in jq. jq rewrites numbers it
# passes through (743.70 -> 743.7, an engagement of 3.0 -> 3), ferry keeps
# their text.

def int_or_fail:
  (if type == "number" then .
   elif type == "string" then tonumber
   elif type == "boolean" then (if . then 1 else 0 end)
   else error("convert: \(type) is not an integer") end)
  | if . == floor then . else error("convert: \(.) is not an integer") end;

def has_pii(k): (.pii | objects | has(k)) // false;

# 0.7.1 -> 0.7.2
def hop1:
    (if .stats.visits == null then .stats.visits = 0 else . end)
  | (if .stats.views == null then .stats.views = 0 else . end)
  | (if .age == null then . else .age |= int_or_fail end)
  | (if .segments == null then .segments = [] else . end)
  | .metadata.schema = "0.7.2";

# 0.7.2 -> 0.8.0
def hop2:
    (if has_pii("name") then .data.pii.firstname = .pii.name | del(.pii.name) else . end)
  | (if has_pii("surname") then .data.pii.lastname = .pii.surname | del(.pii.surname) else . end)
  | (if has_pii("birthdate") then .data.pii.birthday = .pii.birthdate | del(.pii.birthdate) else . end)
  | (if has_pii("email") then .data.contact.email = .pii.email | del(.pii.email) else . end)
  | (if has_pii("telephone") then .data.contact.phone = .pii.telephone | del(.pii.telephone) else . end)
  | del(.pii)
  | .metadata.schema = "0.8.0";

# 0.8.0 -> 0.8.1: the lua op (engagement and tier from stats), then set
def number_or_zero: if type == "number" then . else 0 end;
def hop3:
    (.stats | objects // {}) as $s
  | ($s.visits | number_or_zero) as $visits
  | ($s.views | number_or_zero) as $views
  | (if $visits > 0 then [10.0, ($views / $visits) * ((1 + $visits) | log)] | min
     else 0 end) as $e
  | (($e * 100 + 0.5) | floor / 100) as $engagement
  | (if $visits <= 1 then "new" elif $engagement >= 5 then "engaged"
     else "casual" end) as $tier
  | (if (.data | type) == "object" or (.data | type) == "array" then .
     else .data = {} end)
  | .data.metrics = {engagement: $engagement, tier: $tier}
  | .metadata.schema = "0.8.1";
