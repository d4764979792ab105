-- 0.8.1/profile.lua - data.metrics for a profile, from its stats:
--   engagement  views per visit, weighted by log(1 + visits), 0..10,
--               two decimals (always a float);
--   tier        "new" (at most one visit), "engaged" (engagement >= 5)
--               or "casual".
-- Runs in ferry's Lua sandbox: no io, os or require; json.object() makes
-- a table that stays a JSON object even when empty.

local function number_or_zero(v)
  if type(v) == "number" then return v end
  return 0
end

function transform(doc)
  local stats = doc.stats
  if type(stats) ~= "table" then stats = {} end
  local visits = number_or_zero(stats.visits)
  local views = number_or_zero(stats.views)

  local engagement = 0.0
  if visits > 0 then
    engagement = math.min(10.0, (views / visits) * math.log(1 + visits))
  end
  engagement = math.floor(engagement * 100 + 0.5) / 100

  local tier = "casual"
  if visits <= 1 then
    tier = "new"
  elseif engagement >= 5 then
    tier = "engaged"
  end

  if type(doc.data) ~= "table" then doc.data = json.object() end
  doc.data.metrics = json.object({engagement = engagement, tier = tier})
  return doc
end
