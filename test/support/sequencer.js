/**
 * Runs the timing-sensitive suites (the send governor and campaign pacing measure sends per second) first,
 * while the test process is fresh: later its heap is large and garbage-collection pauses bunch timers.
 */
const Sequencer = require('@jest/test-sequencer').default;

const first = ['rate-governor.test.ts', 'campaigns.test.ts'];
const rank = (path) => {
  const i = first.findIndex((name) => path.endsWith(name));
  return i === -1 ? first.length : i;
};

class TimingFirstSequencer extends Sequencer {
  sort(tests) {
    return [...super.sort(tests)].sort((a, b) => rank(a.path) - rank(b.path));
  }
}

module.exports = TimingFirstSequencer;
