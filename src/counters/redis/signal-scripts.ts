/** Lua for signals: a version counter and a pub/sub message, changed together. */

/** KEYS: version key. ARGV: channel. Increments the version and publishes it. */
export const BUMP_LUA = `
local version = redis.call('INCR', KEYS[1])
redis.call('PUBLISH', ARGV[1], version)
return version
`;
