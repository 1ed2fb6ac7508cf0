import { describe, expect, it } from 'vitest';
import { redact, redactUrlPassword } from './redact.js';

describe('redact', () => {
  it('hides secrets and all but the end of access key ids', () => {
    expect(
      redact({
        url: 's3://b/p',
        accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
        secretAccessKey: 'wJalrXUtnFEMI/K7MDENG',
        sessionToken: 'token-value',
        nested: [{ password: 'pw', other: 'fine' }],
      }),
    ).toEqual({
      url: 's3://b/p',
      accessKeyId: '***MPLE',
      secretAccessKey: '***',
      sessionToken: '***',
      nested: [{ password: '***', other: 'fine' }],
    });
  });

  it("hides the token in the path of notification channels' URLs", () => {
    expect(
      redact({
        channels: [
          { type: 'slack', url: 'https://hooks.slack.com/services/T0/B0/XYZsecret' },
          {
            type: 'heartbeat',
            url: 'https://hc-ping.com/uuid-1',
            failUrl: 'https://hc-ping.com/uuid-1/fail',
          },
          { type: 'webhook', url: { env: 'HOOK_URL' }, secret: 'hmac-key' },
        ],
      }),
    ).toEqual({
      channels: [
        { type: 'slack', url: 'https://hooks.slack.com/***' },
        { type: 'heartbeat', url: 'https://hc-ping.com/***', failUrl: 'https://hc-ping.com/***' },
        { type: 'webhook', url: { env: 'HOOK_URL' }, secret: '***' },
      ],
    });
  });

  it('hides a password inside a URL', () => {
    expect(redactUrlPassword('https://user:pa55@host/x')).toBe('https://user:***@host/x');
    expect(redactUrlPassword('s3://bucket/prefix')).toBe('s3://bucket/prefix');
  });
});

describe('redacting passwords inside messages', () => {
  it('finds URLs anywhere in a text', () => {
    expect(redactUrlPassword('--repo: "https://AKIA:topsecret@host/b" is not a repository URL')).toBe(
      '--repo: "https://AKIA:***@host/b" is not a repository URL',
    );
  });
});
