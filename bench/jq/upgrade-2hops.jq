# bench/jq/upgrade-2hops.jq - the profile ops of the first two CDP hops,
# examples/cdp/migrations/0.7.1_to_0.7.2.json and 0.7.2_to_0.8.0.json, one
# jq step per op and in the same order, for `jq -c -f THIS in.ndjson`
# (bench/20-upgrade.sh). Op semantics as in src/migrate/migrate.h:
# default sets when absent or null; convert to integer keeps integral
# numbers, parses strings holding one and maps true/false to 1/0, else
# fails; rename moves a present value (null included) and creates the
# objects on the way; remove and set as named. jq rewrites numbers it
# passes through (743.70 -> 743.7), ferry keeps their text.

def int_or_fail:
  (if type == "number" then .
   elif type == "string" then tonumber
   elif type == "boolean" then (if . then 1 else 0 end)
   else error("convert: \(type) is not an integer") end)
  | if . == floor then . else error("convert: \(.) is not an integer") end;

def has_pii(k): (.pii | objects | has(k)) // false;

# 0.7.1 -> 0.7.2
  (if .stats.visits == null then .stats.visits = 0 else . end)
| (if .stats.views == null then .stats.views = 0 else . end)
| (if .age == null then . else .age |= int_or_fail end)
| (if .segments == null then .segments = [] else . end)
| .metadata.schema = "0.7.2"
# 0.7.2 -> 0.8.0
| (if has_pii("name") then .data.pii.firstname = .pii.name | del(.pii.name) else . end)
| (if has_pii("surname") then .data.pii.lastname = .pii.surname | del(.pii.surname) else . end)
| (if has_pii("birthdate") then .data.pii.birthday = .pii.birthdate | del(.pii.birthdate) else . end)
| (if has_pii("email") then .data.contact.email = .pii.email | del(.pii.email) else . end)
| (if has_pii("telephone") then .data.contact.phone = .pii.telephone | del(.pii.telephone) else . end)
| del(.pii)
| .metadata.schema = "0.8.0"
