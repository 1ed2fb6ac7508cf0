import { readFileSync } from 'node:fs';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SmtpSink, startSmtpSink } from './smtp-sink.js';

describe('the SMTP sink', () => {
  let sink: SmtpSink;
  beforeAll(async () => {
    sink = await startSmtpSink();
  });
  afterAll(async () => {
    await sink?.stop();
  });

  const transport = (options: { pass?: string; ignoreTLS?: boolean; method?: string } = {}) =>
    nodemailer.createTransport({
      host: sink.host,
      port: sink.port,
      secure: false,
      requireTLS: !options.ignoreTLS,
      ignoreTLS: options.ignoreTLS ?? false,
      auth: {
        user: sink.username,
        pass: options.pass ?? sink.password,
        ...(options.method ? { method: options.method } : {}),
      },
      tls: { ca: readFileSync(sink.caFile) },
    });
  const message = (subject: string) => ({
    from: 'twinvault <twinvault@example.test>',
    to: ['ops@example.test', 'admin@example.test'],
    subject,
    text: `Backup of laptop failed.\n(${subject})`,
  });

  it.each(['PLAIN', 'LOGIN'])('accepts a message over STARTTLS with AUTH %s and keeps it', async (method) => {
    const before = (await sink.messages()).length;
    const subject = `Backup failed (AUTH ${method})`;
    const info = await transport({ method }).sendMail(message(subject));
    expect(info.rejected).toEqual([]);

    const received = (await sink.waitForMessages(before + 1)).at(-1)!;
    expect(received.from).toBe('twinvault@example.test');
    expect(received.to).toEqual(['ops@example.test', 'admin@example.test']);
    expect(received.raw).toContain(`Subject: ${subject}\r\n`);
    expect(received.raw).toContain('From: twinvault <twinvault@example.test>');
    expect(received.raw).toContain('Backup of laptop failed.');
  });

  it('refuses a client that will not STARTTLS, with or without credentials', async () => {
    const before = (await sink.messages()).length;
    // aiosmtpd answers 530 to everything but EHLO/NOOP/STARTTLS/QUIT before TLS, so AUTH fails
    // if the client tries it, and MAIL fails if it does not.
    await expect(transport({ ignoreTLS: true }).sendMail(message('plain text'))).rejects.toMatchObject({
      responseCode: 530,
    });
    const anonymous = nodemailer.createTransport({ host: sink.host, port: sink.port, ignoreTLS: true });
    await expect(anonymous.sendMail(message('anonymous'))).rejects.toMatchObject({ responseCode: 530 });
    expect(await sink.messages()).toHaveLength(before);
  });

  it('refuses a wrong password', async () => {
    const before = (await sink.messages()).length;
    await expect(transport({ pass: 'wrong' }).sendMail(message('wrong password'))).rejects.toMatchObject({
      code: 'EAUTH',
      responseCode: 535,
    });
    expect(await sink.messages()).toHaveLength(before);
  });

  it('refuses a TLS client that sends no credentials', async () => {
    const before = (await sink.messages()).length;
    const anonymous = nodemailer.createTransport({
      host: sink.host,
      port: sink.port,
      requireTLS: true,
      tls: { ca: readFileSync(sink.caFile) },
    });
    await expect(anonymous.sendMail(message('no credentials'))).rejects.toMatchObject({ responseCode: 530 });
    expect(await sink.messages()).toHaveLength(before);
  });
});
