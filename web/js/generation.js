// Clip jobs: the newest job of each scene, one shape for both job sources, and polling a
// job's status with backoff until it is done.

import { ApiError, isTransient } from "./api.js";

export const TERMINAL = new Set(["completed", "failed", "cancelled"]);
export const POLL_FIRST_MS = 1000;
export const POLL_MAX_MS = 10_000;

/**
 * One shape for a job, from either a storyboard's `videoJobs` entry or the status route:
 * {jobId, status, progress, videoUrl, thumbnailUrl, cost, estimatedCost, error}.
 * (Issue 12 adds presigned URLs to `videoJobs`; until then completed clips need a status call.)
 */
export function normalizeJob(job) {
  return {
    jobId: job.jobId ?? job.id,
    status: job.status === "queued" ? "pending" : job.status,
    progress: job.progress ?? 0,
    videoUrl: job.videoUrl ?? null,
    thumbnailUrl: job.thumbnailUrl ?? null,
    cost: job.cost ?? null,
    estimatedCost: job.estimatedCost ?? null,
    error: job.error ?? job.errorMessage ?? null,
    createdAt: job.createdAt ?? null,
  };
}

/** sceneId -> the scene's newest job (normalized). */
export function newestJobs(videoJobs = []) {
  const newest = new Map();
  for (const job of videoJobs) {
    const current = newest.get(job.sceneId);
    if (!current || String(job.createdAt) > String(current.createdAt)) newest.set(job.sceneId, job);
  }
  return new Map([...newest].map(([sceneId, job]) => [sceneId, normalizeJob(job)]));
}

function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });
}

/**
 * Poll GET /api/video/status/{jobId} until the job is done, calling `onStatus` with each
 * answer; waits grow 1.5x from POLL_FIRST_MS to POLL_MAX_MS, also across network failures.
 * Ends (without throwing) when `signal` aborts; throws ApiError for 404/401.
 */
export async function watchJob(api, jobId, { onStatus, onTrouble = () => {}, signal }) {
  let delay = POLL_FIRST_MS;
  while (!signal?.aborted) {
    try {
      const status = normalizeJob(await api.jobStatus(jobId, signal));
      onStatus(status);
      if (TERMINAL.has(status.status)) return status;
    } catch (error) {
      if (signal?.aborted) return null;
      if (!isTransient(error) && error instanceof ApiError) throw error;
      onTrouble(error);
    }
    try {
      await sleep(delay, signal);
    } catch {
      return null;
    }
    delay = Math.min(POLL_MAX_MS, delay * 1.5);
  }
  return null;
}

export function formatCost(usd) {
  return usd === null || usd === undefined ? "" : `$${Number(usd).toFixed(2)}`;
}
