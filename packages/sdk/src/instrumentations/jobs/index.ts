// Scheduled jobs and scripts: one root span per run.
export { traceJob, JOB_NAME, type TraceJobOptions } from './trace-job.js';
