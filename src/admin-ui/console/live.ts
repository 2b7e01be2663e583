import { CoalescedTask } from '../../common/coalesced-task';
import type { Api, AuditHead } from './api';
import { followChanges as followChangeStream } from './change-stream';

const POLL_MS = 2_000;

/**
 * Secret changes made elsewhere, without a reload: the change stream (`GET /api/v1/changes`, a
 * `fetch` with the token in its header, since `EventSource` cannot send one) says when a secret
 * changed, and `changed` fetches the view again, one fetch at a time however many changes come.
 * The stream resumes after its last id when it reconnects; `revoked` ends the session at once.
 */
export function followChanges(api: Api, changed: () => Promise<void>, revoked: (detail: string) => void): () => void {
  const refresh = new CoalescedTask(async () => {
    try {
      await changed();
    } catch {
      // The view says what failed; the next change tries again.
    }
  });
  let opened = false;
  const stream = followChangeStream({
    open: (lastEventId, signal) => api.changes(lastEventId, signal),
    onChange: () => void refresh.run(),
    onRevoked: revoked,
    // A reopened stream without an id to resume from may have missed a change: look again.
    onLive: (live) => {
      if (live && opened && stream.lastEventId === undefined) void refresh.run();
      opened ||= live;
    },
  });
  return () => stream.close();
}

/**
 * What the stream does not carry: the audit trail also grows with resolves, refusals and token
 * events, and the tokens list with issues and revocations. While such a view is shown, a cheap
 * `GET /audit/head` every couple of seconds says when to fetch it again.
 */
export function watchHead(api: Api, moved: () => Promise<void>): () => void {
  let seen: number | undefined;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const tick = async () => {
    try {
      const head = await api.call<AuditHead>('GET', '/audit/head');
      if (seen !== undefined && head.seq !== seen && !stopped) await moved();
      seen = head.seq;
    } catch {
      // A failed poll is retried on the next tick; a revoked token ends the session (Api).
    }
    if (!stopped) timer = setTimeout(() => void tick(), POLL_MS);
  };
  void tick();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
