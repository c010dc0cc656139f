import { historyLimits, priorTurns, searchQuery } from '../../core/ai/reply-context';

const msg = (direction: 'in' | 'out', text: string) => ({ direction, text });

describe('the conversation the AI reply model sees', () => {
  it('turns the newest messages into chat turns, oldest first: the customer as user, us as assistant', () => {
    const newestFirst = [msg('out', 'It has six pastries.'), msg('in', '  Tell me about the Weekend Box '), msg('out', 'Hi! How can I help?'), msg('in', 'hello')];
    expect(priorTurns(newestFirst)).toEqual([
      { role: 'user', content: 'hello' },
      { role: 'assistant', content: 'Hi! How can I help?' },
      { role: 'user', content: 'Tell me about the Weekend Box' },
      { role: 'assistant', content: 'It has six pastries.' },
    ]);
    expect(priorTurns([])).toEqual([]);
  });

  it('is bounded: at most 10 messages, each cut to 1,000 characters, 4,000 in all, the oldest dropped first', () => {
    const many = Array.from({ length: 15 }, (_, i) => msg(i % 2 ? 'in' : 'out', `message ${15 - i}`));
    const turns = priorTurns(many);
    expect(turns.map((t) => t.content)).toEqual(Array.from({ length: historyLimits.messages }, (_, i) => `message ${i + 6}`));

    const long = (c: string) => c.repeat(2500);
    const newestFirst = [msg('out', long('d')), msg('in', 'short 4'), msg('out', long('c')), msg('in', 'short 3'), msg('out', long('b')), msg('in', 'short 2'), msg('out', long('a'))];
    const bounded = priorTurns(newestFirst);
    // Four long ones cut to 1,000 characters each would exceed 4,000 with the short ones: the oldest is left out.
    expect(bounded.map((t) => t.content.slice(0, 7))).toEqual(['short 2', 'bbbbbbb', 'short 3', 'ccccccc', 'short 4', 'ddddddd']);
    expect(bounded[1].content).toBe(`${'b'.repeat(999)}…`);
    expect(bounded.reduce((n, t) => n + t.content.length, 0)).toBeLessThanOrEqual(historyLimits.totalChars);
  });

  it('searches a short follow-up together with the customer’s previous message, a full question alone', () => {
    const turns = priorTurns([msg('out', 'It has six pastries.'), msg('in', 'Tell me about the Weekend Box'), msg('out', 'Hi!')]);
    expect(searchQuery('And how much does it cost?', turns)).toBe('Tell me about the Weekend Box\nAnd how much does it cost?');
    expect(searchQuery('What time do you open on Friday?', turns)).toBe('What time do you open on Friday?');
    expect(searchQuery('And how much does it cost?', [{ role: 'assistant', content: 'Hi!' }])).toBe('And how much does it cost?');
  });
});
