import { describe, expect, it } from 'vitest';
import { decodeEventKey, parseNotification } from './s3-events.js';

const awsRecord = {
  eventVersion: '2.1',
  eventSource: 'aws:s3',
  awsRegion: 'eu-west-1',
  eventTime: '2026-11-26T10:00:00.000Z',
  eventName: 'ObjectCreated:Put',
  s3: {
    s3SchemaVersion: '1.0',
    configurationId: 'twinvault',
    bucket: { name: 'backups', arn: 'arn:aws:s3:::backups' },
    object: {
      key: 'repo/laptop/20261126_100000/Documents/caf%C3%A9+menu.txt',
      size: 12,
      eTag: 'abc',
      sequencer: '0A1B',
    },
  },
};

describe('parseNotification', () => {
  it('reads AWS S3 notifications, decoding form-encoded keys', () => {
    expect(parseNotification({ Records: [awsRecord] })).toEqual({
      events: [
        {
          bucket: 'backups',
          key: 'repo/laptop/20261126_100000/Documents/café menu.txt',
          action: 'created',
          size: 12,
          etag: 'abc',
          time: '2026-11-26T10:00:00.000Z',
          name: 'ObjectCreated:Put',
        },
      ],
      ignored: [],
    });
  });

  it("reads MinIO's webhook body and removals", () => {
    const body = {
      EventName: 's3:ObjectRemoved:Delete',
      Key: 'backups/repo/x',
      Records: [
        {
          ...awsRecord,
          eventName: 's3:ObjectRemoved:Delete',
          s3: { ...awsRecord.s3, object: { key: 'repo/x' } },
        },
      ],
    };
    expect(parseNotification(body).events).toEqual([
      {
        bucket: 'backups',
        key: 'repo/x',
        action: 'removed',
        time: '2026-11-26T10:00:00.000Z',
        name: 's3:ObjectRemoved:Delete',
      },
    ]);
  });

  it('unwraps SNS envelopes and reads EventBridge events', () => {
    const sns = { Type: 'Notification', MessageId: '1', Message: JSON.stringify({ Records: [awsRecord] }) };
    expect(parseNotification(sns).events).toHaveLength(1);
    const bridge = {
      version: '0',
      'detail-type': 'Object Created',
      source: 'aws.s3',
      time: '2026-11-26T10:00:01Z',
      detail: { bucket: { name: 'backups' }, object: { key: 'repo/a%20b', size: 3, etag: 'e' } },
    };
    expect(parseNotification(bridge).events).toEqual([
      {
        bucket: 'backups',
        key: 'repo/a b',
        action: 'created',
        size: 3,
        etag: 'e',
        time: '2026-11-26T10:00:01.000Z',
        name: 'EventBridge Object Created',
      },
    ]);
  });

  it('leaves out an event time that is missing or does not parse', () => {
    const [noTime] = parseNotification({ Records: [{ ...awsRecord, eventTime: undefined }] }).events;
    const [badTime] = parseNotification({ Records: [{ ...awsRecord, eventTime: 'yesterday' }] }).events;
    expect(noTime).not.toHaveProperty('time');
    expect(badTime).not.toHaveProperty('time');
  });

  it("ignores S3's test event, other events and junk without throwing", () => {
    const test = {
      Service: 'Amazon S3',
      Event: 's3:TestEvent',
      Time: '2026-11-26T10:00:00Z',
      Bucket: 'backups',
    };
    expect(parseNotification(test)).toEqual({ events: [], ignored: ['s3:TestEvent'] });
    expect(
      parseNotification({ Records: [{ eventName: 'ObjectRestore:Completed', s3: awsRecord.s3 }, 42] })
        .ignored,
    ).toHaveLength(2);
    expect(parseNotification('text').events).toEqual([]);
    expect(parseNotification(null).events).toEqual([]);
  });

  it('drops keys that are not valid percent-encoding', () => {
    expect(decodeEventKey('bad%E0%A4%A')).toBeUndefined();
    expect(decodeEventKey('a%2Bb+c')).toBe('a+b c');
  });
});
