import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PAUSE_MS, TypingRhythm, typedThroughLength, type ShownCompletion } from '../../../src/extension/debounce';

test('with no rhythm yet the base delay is used; a zero base never waits', () => {
  const r = new TypingRhythm();
  assert.equal(r.delayMs(60), 60);
  r.keystroke(0);
  assert.equal(r.delayMs(60), 60, 'one keystroke is no rhythm');
  assert.equal(r.delayMs(0), 0);
});

test('a fast burst waits a little longer than the typical gap', () => {
  const r = new TypingRhythm();
  for (let t = 0; t <= 1000; t += 100) r.keystroke(t);
  assert.ok(Math.abs(r.typicalGapMs! - 100) < 1e-9);
  assert.equal(r.delayMs(60), 125);
  // Never below the base.
  const quick = new TypingRhythm();
  for (let t = 0; t <= 300; t += 20) quick.keystroke(t);
  assert.equal(quick.delayMs(60), 60);
});

test('slow typing falls back to the base delay instead of waiting ever longer', () => {
  const r = new TypingRhythm();
  for (let t = 0; t <= 5000; t += 500) r.keystroke(t);
  assert.equal(r.delayMs(60), 60, '1.25 x 500 ms is above 4 x base: the next key is not imminent');
  assert.ok(r.delayMs(200) >= 200 && r.delayMs(200) <= 800);
});

test('pauses do not count as rhythm, and the average follows a change of pace', () => {
  const r = new TypingRhythm();
  let t = 0;
  for (let i = 0; i < 10; i++) r.keystroke((t += 100));
  r.keystroke((t += PAUSE_MS + 10)); // a pause
  assert.ok(Math.abs(r.typicalGapMs! - 100) < 1e-9, 'the pause is ignored');
  for (let i = 0; i < 30; i++) r.keystroke((t += 40));
  assert.ok(r.typicalGapMs! < 45, `adapted to 40 ms gaps: ${r.typicalGapMs}`);
  // A clock going backwards (another source) is ignored, not averaged in.
  const before = r.typicalGapMs;
  r.keystroke(t - 1000);
  assert.equal(r.typicalGapMs, before);
});

test('typedThroughLength recognises typing the start of the shown completion', () => {
  const shown: ShownCompletion = { documentKey: 'a', line: 3, linePrefix: '  return mes', text: 'sage.length;' };
  assert.equal(typedThroughLength(shown, 'a', 3, '  return mess'), 1);
  assert.equal(typedThroughLength(shown, 'a', 3, '  return messag'), 3);
  assert.equal(typedThroughLength(shown, 'a', 3, '  return mesx'), 0, 'typed something else');
  assert.equal(typedThroughLength(shown, 'a', 3, '  return mes'), 0, 'nothing typed');
  assert.equal(typedThroughLength(shown, 'a', 3, '  return message.length;'), 0, 'typed all of it: nothing left to show');
  assert.equal(typedThroughLength(shown, 'b', 3, '  return mess'), 0, 'another document');
  assert.equal(typedThroughLength(shown, 'a', 4, '  return mess'), 0, 'another line');
  assert.equal(typedThroughLength(undefined, 'a', 3, 'x'), 0);
});
