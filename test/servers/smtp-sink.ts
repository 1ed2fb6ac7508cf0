import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheDir } from './cache.js';
import { freePort, hasCommand, runStep, startProcess, stopProcess } from './process.js';

/** Pinned aiosmtpd release; it plays the mail server the e-mail notifications are sent to. */
export const AIOSMTPD_VERSION = '1.4.6';

export interface ReceivedMail {
  /** The envelope sender (MAIL FROM), which may differ from the From header. */
  from: string;
  /** The envelope recipients (RCPT TO), in the order given. */
  to: string[];
  /** The message as received after DATA (dot-unstuffed, CRLF line ends), read as UTF-8. */
  raw: string;
}

export interface SmtpSink {
  host: '127.0.0.1';
  port: number;
  /** The server's self-signed certificate (PEM), to be trusted as the client's `tls.ca`. */
  caFile: string;
  username: string;
  password: string;
  /** Every message accepted so far, oldest first. */
  messages(): Promise<ReceivedMail[]>;
  /** The messages once there are at least `count` of them; fails after `timeoutMs`. */
  waitForMessages(count: number, timeoutMs?: number): Promise<ReceivedMail[]>;
  stop(): Promise<void>;
}

/** A virtualenv in the cache holding aiosmtpd, created the first time; returns its python. */
export function ensureSmtpSink(): string {
  const venv = cacheDir(`smtp-sink-aiosmtpd-${AIOSMTPD_VERSION}`);
  const venvPython = join(venv, 'bin', 'python');
  // aiosmtpd's own command, not python: a venv whose pip install failed has the latter.
  if (existsSync(join(venv, 'bin', 'aiosmtpd'))) return venvPython;
  const python = ['python3', 'python'].find((command) => hasCommand(command));
  if (!python) throw new Error('Python 3 is not installed, so aiosmtpd cannot be installed');
  console.log(`installing aiosmtpd==${AIOSMTPD_VERSION} into ${venv} (first run on this machine only)...`);
  runStep(python, ['-m', 'venv', venv]);
  runStep(join(venv, 'bin', 'pip'), [
    'install',
    '--quiet',
    '--disable-pip-version-check',
    `aiosmtpd==${AIOSMTPD_VERSION}`,
  ]);
  return venvPython;
}

/** A self-signed certificate for localhost and 127.0.0.1, valid for two days. */
function makeCertificate(dir: string): { certFile: string; keyFile: string } {
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  const args = ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2'];
  args.push('-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1');
  args.push('-keyout', keyFile, '-out', certFile);
  // Piped, not inherited: openssl draws progress dots on stderr even when it succeeds.
  const result = spawnSync('openssl', args, { encoding: 'utf8' });
  if (result.error) throw new Error(`openssl could not run, so no certificate: ${result.error.message}`);
  if (result.status !== 0)
    throw new Error(`openssl req failed with exit code ${result.status}:\n${result.stderr}`);
  return { certFile, keyFile };
}

/** Whether an SMTP server on `port` answers with its 220 greeting. */
function greets(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const done = (answer: boolean) => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(2000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('data', (chunk) => done(chunk.toString('latin1').startsWith('220')));
  });
}

async function readMailFolder(mailDir: string): Promise<ReceivedMail[]> {
  // The server renames <n>.json into place before <n>.eml, so every .eml listed has its envelope.
  const numbers = (await readdir(mailDir))
    .flatMap((name) => /^(\d+)\.eml$/.exec(name)?.[1] ?? [])
    .map(Number)
    .sort((a, b) => a - b);
  return Promise.all(
    numbers.map(async (n) => {
      const envelope = JSON.parse(await readFile(join(mailDir, `${n}.json`), 'utf8')) as {
        mail_from: string;
        rcpt_tos: string[];
      };
      const raw = await readFile(join(mailDir, `${n}.eml`), 'utf8');
      return { from: envelope.mail_from, to: envelope.rcpt_tos, raw };
    }),
  );
}

/**
 * An SMTP server that accepts mail only after STARTTLS and AUTH (LOGIN or PLAIN) with its one
 * account, and keeps every message as <n>.eml (plus its envelope, <n>.json) in a temp folder.
 */
export async function startSmtpSink(): Promise<SmtpSink> {
  const python = ensureSmtpSink();
  const dir = mkdtempSync(join(tmpdir(), 'twinvault-smtp-'));
  try {
    const { certFile, keyFile } = makeCertificate(dir);
    const mailDir = join(dir, 'mail');
    mkdirSync(mailDir);
    const port = await freePort();
    const username = 'twinvault-test';
    const password = 'twinvault-test-secret';
    const script = fileURLToPath(new URL('./smtp-sink.py', import.meta.url));
    const args = [
      script,
      '--port',
      String(port),
      '--cert',
      certFile,
      '--key',
      keyFile,
      '--mail-dir',
      mailDir,
    ];
    const env = { ...process.env, SMTP_SINK_USERNAME: username, SMTP_SINK_PASSWORD: password };
    const child = await startProcess('SMTP sink', python, args, env, () => greets(port));
    const messages = () => readMailFolder(mailDir);
    return {
      host: '127.0.0.1',
      port,
      caFile: certFile,
      username,
      password,
      messages,
      waitForMessages: async (count, timeoutMs = 10_000) => {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const received = await messages();
          if (received.length >= count) return received;
          if (Date.now() >= deadline)
            throw new Error(`expected ${count} messages within ${timeoutMs} ms, got ${received.length}`);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      },
      stop: async () => {
        await stopProcess(child);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
