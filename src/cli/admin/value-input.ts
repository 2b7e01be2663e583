import { readFile } from 'node:fs/promises';
import { CommandFailure, EXIT } from './exit-codes';

/**
 * Where a secret value comes from (SPEC §6), never from an argument, where `ps` and the shell's
 * history would show it: `--from-file`, else standard input when it is not a terminal, else a
 * prompt that does not echo and asks twice, since a typo nobody can see would be stored (and
 * admins cannot read a value back to check it). One trailing newline is dropped (what `echo` and
 * editors add).
 */
export async function readSecretValue(key: string, fromFile: string | undefined, stdin: NodeJS.ReadStream = process.stdin): Promise<string> {
  let raw: string;
  if (fromFile !== undefined) {
    try {
      raw = await readFile(fromFile, 'utf8');
    } catch (error) {
      throw new CommandFailure(`--from-file: cannot read ${fromFile} (${(error as NodeJS.ErrnoException).code})`, EXIT.usage);
    }
  } else if (!stdin.isTTY) {
    raw = await readAll(stdin);
  } else {
    raw = await promptHidden(`Value for ${key} (not shown): `, stdin);
    if ((await promptHidden(`Again, to confirm: `, stdin)) !== raw) throw new CommandFailure(`the two values typed for ${key} differ: nothing changed`, EXIT.usage);
  }
  const value = raw.replace(/\r?\n$/, '');
  if (value === '') throw new CommandFailure(`no value for ${key}: give it on standard input, with --from-file, or at the prompt`, EXIT.usage);
  return value;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads one line from the terminal in raw mode, echoing nothing; Ctrl-C aborts. */
function promptHidden(question: string, stdin: NodeJS.ReadStream): Promise<string> {
  return new Promise((resolve, reject) => {
    let typed = '';
    const done = (settle: () => void) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      settle();
    };
    const onData = (chunk: Buffer) => {
      for (const char of chunk.toString('utf8')) {
        if (char === '\r' || char === '\n') return done(() => resolve(typed));
        if (char === '\u0003') return done(() => reject(new CommandFailure('cancelled', EXIT.usage)));
        if (char === '\u007f' || char === '\b') typed = [...typed].slice(0, -1).join('');
        else typed += char;
      }
    };
    // Echo off before the question is shown: whatever is typed from then on is never echoed,
    // even by someone who types before the prompt has settled.
    stdin.setRawMode(true);
    process.stderr.write(question);
    stdin.resume();
    stdin.on('data', onData);
  });
}

/** A yes/no question on the terminal (`import`, `rm`); anything but y/yes is no. */
export async function confirm(question: string, stdin: NodeJS.ReadStream = process.stdin): Promise<boolean> {
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}
