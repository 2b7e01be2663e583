/** One event of a `text/event-stream` (the WHATWG "server-sent events" format). */
export interface ServerSentEvent {
  /** `message` when the event names no type. */
  event: string;
  data: string;
  /** The stream's last event id after this event (an event without `id:` keeps the previous one). */
  id: string | undefined;
}

/**
 * Parses a `text/event-stream` fed in chunks of any size: lines end in LF, CR or CRLF; `data:`
 * lines join with LF; an event is dispatched at a blank line, and only if it has data; comment
 * lines (`:`) and unknown fields are ignored; `retry:` sets the reconnection delay.
 * `lastEventId` moves only at the blank line that ends an event, as the WHATWG rules have it: a
 * stream cut inside an event leaves the id before it, so a reader resuming from it gets that
 * event again rather than skipping it.
 */
export class EventStreamParser {
  private buffer = '';
  private event = '';
  private data: string[] = [];
  /** The `id:` of the event being read, until its blank line makes it the last event id. */
  private idBuffer: string | undefined;
  private pendingCr = false;
  /** The id of the last event read to its end; what a reconnecting reader sends as `Last-Event-ID`. */
  lastEventId: string | undefined;
  retryMs: number | undefined;

  constructor(private readonly onEvent: (event: ServerSentEvent) => void) {}

  push(chunk: string): void {
    let text = chunk;
    // A CR at the end of the last chunk ended a line: an LF starting this one belongs to it.
    if (this.pendingCr && text.startsWith('\n')) text = text.slice(1);
    this.pendingCr = false;
    this.buffer += text;
    for (;;) {
      const end = this.buffer.search(/[\r\n]/);
      if (end < 0) return;
      const line = this.buffer.slice(0, end);
      let next = end + 1;
      if (this.buffer[end] === '\r') {
        if (next === this.buffer.length) this.pendingCr = true;
        else if (this.buffer[next] === '\n') next += 1;
      }
      this.buffer = this.buffer.slice(next);
      this.line(line);
    }
  }

  private line(line: string): void {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.event = value;
    else if (field === 'data') this.data.push(value);
    else if (field === 'id' && !value.includes('\0')) this.idBuffer = value;
    else if (field === 'retry' && /^\d+$/.test(value)) this.retryMs = Number(value);
  }

  private dispatch(): void {
    const { event, data } = this;
    this.lastEventId = this.idBuffer;
    this.event = '';
    this.data = [];
    if (data.length === 0) return;
    this.onEvent({ event: event || 'message', data: data.join('\n'), id: this.lastEventId });
  }
}
