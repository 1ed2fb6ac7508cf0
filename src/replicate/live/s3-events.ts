/**
 * S3 event notifications in the shapes they arrive in, reduced to what replication needs: which
 * object, in which bucket, created or removed. Shapes: S3 and MinIO notifications
 * (`Records[].s3`, also inside MinIO's webhook body), the same wrapped in an SNS envelope, and
 * EventBridge "Object Created"/"Object Deleted" events from S3.
 */
export interface ObjectEvent {
  bucket: string;
  /** The object key, decoded (notifications carry it URL-encoded). */
  key: string;
  action: 'created' | 'removed';
  size?: number;
  etag?: string;
  /** When the change happened (the event's time, ISO 8601 UTC), for measuring replication lag. */
  time?: string;
  /** The event's own name, for logs. */
  name: string;
}

export interface ParsedEvents {
  events: ObjectEvent[];
  /** Records that are not object events (S3's test event, other services), for the log. */
  ignored: string[];
}

/**
 * Why a body cannot be a notification from any sender we know, or undefined when it has the shape
 * of one (even if no record in it is an object event: S3's test event, an SNS subscription
 * confirmation, EventBridge events of other kinds are fine and ignored). Such a body will never
 * become valid by being sent again: the webhook answers it 400, not 500.
 */
export function notificationShapeProblem(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return 'the body is not a JSON object';
  const record = body as Record<string, unknown>;
  if ('Records' in record) {
    if (!Array.isArray(record.Records)) return '"Records" is not an array';
    if (record.Records.some((item) => typeof item !== 'object' || item === null))
      return '"Records" holds something that is not an object';
    return undefined;
  }
  if (typeof record.Type === 'string' && typeof record.Message === 'string') return undefined; // SNS
  if (typeof record.source === 'string' && typeof record['detail-type'] === 'string') return undefined;
  if (record.Event === 's3:TestEvent') return undefined;
  return 'it is not an S3 event notification (no "Records", no SNS or EventBridge envelope)';
}

/** Parses one notification body (already JSON-parsed). Never throws on unknown shapes: ignores them. */
export function parseNotification(body: unknown): ParsedEvents {
  const result: ParsedEvents = { events: [], ignored: [] };
  collect(body, result, 0);
  return result;
}

function collect(body: unknown, into: ParsedEvents, depth: number): void {
  if (depth > 2 || typeof body !== 'object' || body === null) {
    into.ignored.push(describe(body));
    return;
  }
  const record = body as Record<string, unknown>;
  if (Array.isArray(record.Records)) {
    for (const item of record.Records) {
      const event = fromS3Record(item);
      if (event) into.events.push(event);
      else into.ignored.push(describe(item));
    }
    return;
  }
  if (record.Type === 'Notification' && typeof record.Message === 'string') {
    collect(parseJson(record.Message), into, depth + 1);
    return;
  }
  const fromBridge = fromEventBridge(record);
  if (fromBridge) into.events.push(fromBridge);
  else into.ignored.push(describe(body));
}

function fromS3Record(item: unknown): ObjectEvent | undefined {
  const record = item as {
    eventName?: unknown;
    eventTime?: unknown;
    s3?: { bucket?: { name?: unknown }; object?: Record<string, unknown> };
  };
  const name = record?.eventName;
  const bucket = record?.s3?.bucket?.name;
  const object = record?.s3?.object;
  if (typeof name !== 'string' || typeof bucket !== 'string' || typeof object?.key !== 'string')
    return undefined;
  const action = actionOf(name);
  if (!action) return undefined;
  const key = decodeEventKey(object.key);
  if (key === undefined) return undefined;
  return {
    bucket,
    key,
    action,
    name,
    ...(typeof object.size === 'number' ? { size: object.size } : {}),
    ...(typeof object.eTag === 'string' ? { etag: object.eTag } : {}),
    ...timeOf(record.eventTime),
  };
}

/** EventBridge events from S3 (their keys are URL-encoded like notifications'). */
function fromEventBridge(record: Record<string, unknown>): ObjectEvent | undefined {
  const type = record['detail-type'];
  const detail = record.detail as
    | { bucket?: { name?: unknown }; object?: Record<string, unknown> }
    | undefined;
  if (record.source !== 'aws.s3' || typeof type !== 'string') return undefined;
  const action = type === 'Object Created' ? 'created' : type === 'Object Deleted' ? 'removed' : undefined;
  const bucket = detail?.bucket?.name;
  const rawKey = detail?.object?.key;
  if (!action || typeof bucket !== 'string' || typeof rawKey !== 'string') return undefined;
  const key = decodeEventKey(rawKey);
  if (key === undefined) return undefined;
  const object = detail!.object!;
  return {
    bucket,
    key,
    action,
    name: `EventBridge ${type}`,
    ...(typeof object.size === 'number' ? { size: object.size } : {}),
    ...(typeof object.etag === 'string' ? { etag: object.etag } : {}),
    ...timeOf(record.time),
  };
}

/** An event's time as `{ time }` in ISO 8601 UTC, or nothing when it has none that parses. */
function timeOf(value: unknown): { time?: string } {
  const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  return Number.isNaN(ms) ? {} : { time: new Date(ms).toISOString() };
}

function actionOf(eventName: string): ObjectEvent['action'] | undefined {
  // AWS names them "ObjectCreated:Put", MinIO "s3:ObjectCreated:Put".
  if (/(^|:)ObjectCreated:/.test(eventName)) return 'created';
  if (/(^|:)ObjectRemoved:/.test(eventName)) return 'removed';
  return undefined;
}

/** Keys in S3 events are form-encoded: "+" for a space, %XX for other bytes. */
export function decodeEventKey(raw: string): string | undefined {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function describe(value: unknown): string {
  if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    const label =
      record.Event ?? record.eventName ?? record['detail-type'] ?? Object.keys(record).slice(0, 3).join(',');
    return String(label);
  }
  return typeof value;
}
