/**
 * The join wait's bounds, in a module of their own so that the settings
 * (src/extension) can name them without importing the completion core.
 */

/**
 * How far past a syntax stop a plain mode's join rule may generate looking
 * for the suffix join (the default of the setting subword.completion.joinWait;
 * CompletionCore.plainJoinLookahead). The syntax stop rules end a mid-word
 * completion at the word's end, before the rule can see it join the code
 * after the cursor; waiting lets it. Through CompletionCore, 600 clean held-out
 * holes (2026-11-26, cold cache each): exact matches in exact mode 23 / 28 /
 * 33 at waits 0 / 16 / 32, heal 22 / 23 / 23; exact's median time 32 / 40 /
 * 44 ms, p95 65 / 79 / 91 ms (at most 1.4x heal's time at the same wait). 16
 * keeps the median near 40 ms.
 */
export const PLAIN_JOIN_LOOKAHEAD_BYTES = 16;

/** Largest join wait a request may ask for. */
export const MAX_JOIN_WAIT_BYTES = 64;
