/**
 * Where the replicator Lambda's CloudWatch metrics (Embedded Metric Format) are published: shared
 * by the handler, which writes them, and the CloudFormation template, whose alarm reads them.
 * Kept apart from emf-metrics.ts so the template does not pull in the metrics library.
 */
export const EMF_NAMESPACE = 'twinvault';
/** The one dimension: which replica, as `s3://bucket/prefix` (the agent's `replica` label). */
export const EMF_REPLICA_DIMENSION = 'Replica';
/** Seconds from the oldest event of a live invocation to the end of its copying. */
export const EMF_LAG_METRIC = 'ReplicationLagSeconds';
