import { describe, expect, it } from 'vitest';
import { parseListen, sqsClientConfig } from './replicate-live.js';

describe('live mode flags', () => {
  it('parses --listen HOST:PORT, IPv6 in brackets too', () => {
    expect(parseListen('127.0.0.1:9400')).toEqual({ host: '127.0.0.1', port: 9400 });
    expect(parseListen('[::1]:80')).toEqual({ host: '::1', port: 80 });
    expect(() => parseListen('9400')).toThrow(/is not HOST:PORT/);
    expect(() => parseListen('host:99999')).toThrow(/is not HOST:PORT/);
  });

  it('takes the region from an AWS queue URL, and the endpoint from any other', () => {
    expect(sqsClientConfig('https://sqs.eu-west-1.amazonaws.com/123456789012/events')).toEqual({
      region: 'eu-west-1',
    });
    expect(sqsClientConfig('http://127.0.0.1:5000/123456789012/events')).toMatchObject({
      endpoint: 'http://127.0.0.1:5000',
    });
    expect(() => sqsClientConfig('events')).toThrow(/is not a queue URL/);
  });
});
