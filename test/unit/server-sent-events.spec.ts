import { EventStreamParser, ServerSentEvent } from '../../src/client/server-sent-events';

describe('EventStreamParser', () => {
  const parse = (...chunks: string[]) => {
    const events: ServerSentEvent[] = [];
    const parser = new EventStreamParser((event) => events.push(event));
    chunks.forEach((chunk) => parser.push(chunk));
    return { events, parser };
  };

  it('a stream cut inside an event keeps the id of the last whole one, so resuming from it gets the cut event again', () => {
    const { events, parser } = parse('id: 7\nevent: change\ndata: {"revision":7}\n\n', 'id: 8\nevent: change\ndata: {"revis');
    expect(events.map((event) => event.id)).toEqual(['7']);
    expect(parser.lastEventId).toBe('7');
  });

  it('the id moves at the blank line ending the event, and an event without id: keeps the one before', () => {
    const { events, parser } = parse('id: 1\ndata: a\n', '\n', 'data: b\r\n\r\n');
    expect(events.map((event) => [event.data, event.id])).toEqual([
      ['a', '1'],
      ['b', '1'],
    ]);
    expect(parser.lastEventId).toBe('1');
  });
});
