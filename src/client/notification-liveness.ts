/** Where the SDK says what an operator should know; `message` never carries a credential or a value. */
export type ClientLog = (level: 'warn' | 'info', message: string) => void;

export const consoleLog: ClientLog = (level, message) => (level === 'warn' ? console.warn : console.info)(`secrets-ledger client: ${message}`);

/**
 * Whether change notifications reach the client as they happen, from however many sources it
 * has (NATS; another feed could report here too): live while at least one source is. Each
 * source reports its state and, when down, why. `onChange` hears every move of `live`; the log
 * hears each new reason notifications cannot arrive, and the recovery after one.
 */
export class NotificationLiveness {
  private readonly sources = new Map<string, boolean>();
  private warned: string | undefined;

  constructor(
    private readonly onChange: (live: boolean) => void,
    private readonly log: ClientLog,
  ) {}

  get live(): boolean {
    return [...this.sources.values()].some(Boolean);
  }

  report(source: string, live: boolean, problem?: string): void {
    const before = this.live;
    this.sources.set(source, live);
    const after = this.live;
    if (!after && problem !== undefined && problem !== this.warned) {
      this.warned = problem;
      this.log('warn', `cannot receive change notifications (${problem}); values change only at the periodic resync until then`);
    }
    if (after && this.warned !== undefined) {
      this.warned = undefined;
      this.log('info', `receiving change notifications again (${source})`);
    }
    if (after !== before) this.onChange(after);
  }
}
