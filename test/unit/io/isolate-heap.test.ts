import test from 'ava';
import { collected, growthDue, GROWTH_BUDGET_BYTES, newGrowthState } from '../../../src/io/isolate-heap.ts';

const MB = 1024 * 1024;

test('the first look collects what start-up left; after that, only growth over the floor does', (t) => {
  const st = newGrowthState();
  t.true(growthDue(st, 9 * MB));
  collected(st, 6 * MB);
  t.is(st.collections, 1);
  t.false(growthDue(st, 6 * MB));
  t.false(growthDue(st, 6 * MB + GROWTH_BUDGET_BYTES - 1));
  t.true(growthDue(st, 6 * MB + GROWTH_BUDGET_BYTES));
});

test('a heap V8 collected on its own lowers the floor, and growth counts from there', (t) => {
  const B = GROWTH_BUDGET_BYTES;
  const st = newGrowthState();
  growthDue(st, 10 * MB);
  collected(st, 8 * MB);
  t.false(growthDue(st, 8 * MB + B - 1));
  t.false(growthDue(st, 7 * MB)); // V8 collected: the floor is 7 MB now
  t.is(st.floor, 7 * MB);
  t.false(growthDue(st, 7 * MB + B - 1));
  t.true(growthDue(st, 7 * MB + B));
});

test('a budget of its own', (t) => {
  const st = newGrowthState();
  collected(st, 4 * MB);
  t.false(growthDue(st, 4.5 * MB, MB));
  t.true(growthDue(st, 5 * MB, MB));
});
