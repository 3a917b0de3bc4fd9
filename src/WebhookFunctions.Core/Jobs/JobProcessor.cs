using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WebhookFunctions.Core.Delivery;
using WebhookFunctions.Core.Storage;
using WebhookFunctions.Core.Webhooks;
using DeliveryRecord = WebhookFunctions.Core.Delivery.Delivery;

namespace WebhookFunctions.Core.Jobs;

/// <summary>
/// Runs a recover job one page per queue message. Every message may arrive twice and every process may
/// die between two writes, so:
/// <list type="bullet">
/// <item>a delivery is put back to pending in one transaction that also stamps it with the job's id and
/// writes its pending marker; a page run again finds the stamp and counts the delivery without resetting it;</item>
/// <item>the page's counts and the cursor are saved together on the job's version, so a page counts once
/// and the cursor only moves forward; a duplicate that loses that race stops;</item>
/// <item>the next page's message is sent only after the save; if it is lost, the sweep re-drives the job.</item>
/// </list>
/// A page holds at most <c>Delivery:RecoverPageSize</c> deliveries, so memory does not grow with the job.
/// </summary>
public sealed class JobProcessor(
    JobStore jobs,
    RecoverStore deliveries,
    WebhookRepository webhooks,
    DeliveryQueues queues,
    IOptions<DeliveryOptions> options,
    TimeProvider clock,
    ILogger<JobProcessor> logger)
{
    /// <summary>Resets in flight at once: enough to hide storage latency, few enough not to crowd out delivery work.</summary>
    private const int Parallelism = 16;

    /// <summary>Deliveries put back in one transaction: each with its pending marker, within the 100 operations a transaction allows.</summary>
    private const int Batch = 50;

    private readonly int _pageSize = options.Value.RecoverPageSize;

    public async Task HandleAsync(JobMessage message, CancellationToken cancellationToken)
    {
        var job = await jobs.FindAsync(message.MerchantId, message.JobId, cancellationToken);
        if (job is null || job.Status != JobStatus.Running)
        {
            return;
        }

        var webhook = (await webhooks.FindAsync(job.MerchantId, job.ApplicationId, job.WebhookId, cancellationToken))?.Webhook;
        if (webhook is null || !webhook.IsActive)
        {
            var now = clock.GetUtcNow();
            await jobs.TrySaveAsync(job with
            {
                Status = JobStatus.Failed, CompletedAt = now, UpdatedAt = now,
                Error = webhook is null ? "webhook_deleted" : "webhook_inactive",
            }, cancellationToken);
            logger.LogWarning("Recover job {JobId} stopped: its webhook {WebhookId} is {State}", job.Id, job.WebhookId, webhook is null ? "deleted" : "inactive");
            return;
        }

        var page = await deliveries.PageAsync(job, _pageSize, cancellationToken);
        long matched = 0;
        var options = new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(page.Chunk(Batch), options, async (chunk, ct) =>
        {
            // The common case in one transaction per chunk; if any delivery moved meanwhile, one at a time.
            var now = clock.GetUtcNow();
            var resets = chunk.Where(d => d.RecoverJobId != job.Id && Matches(job, d)).Select(d => (Current: d, Reset: Reset(job, d, now))).ToList();
            if (await deliveries.TryResetAllAsync(resets, ct))
            {
                Interlocked.Add(ref matched, resets.Count);
                foreach (var (_, reset) in resets)
                {
                    await SendAttemptAsync(reset, ct);
                }

                foreach (var ours in chunk.Where(d => d.RecoverJobId == job.Id))
                {
                    if (await RecoverAsync(job, ours, ct))
                    {
                        Interlocked.Increment(ref matched);
                    }
                }

                return;
            }

            foreach (var delivery in chunk)
            {
                if (await RecoverAsync(job, delivery, ct))
                {
                    Interlocked.Increment(ref matched);
                }
            }
        });

        var done = page.Count < _pageSize;
        var at = clock.GetUtcNow();
        var saved = await jobs.TrySaveAsync(job with
        {
            Cursor = page.Count > 0 ? DeliveryEntity.RowKeyOf(page[^1].EventId) : job.Cursor,
            Matched = job.Matched + matched,
            Resent = job.Resent + matched,
            UpdatedAt = at,
            Status = done ? JobStatus.Completed : JobStatus.Running,
            CompletedAt = done ? at : null,
        }, cancellationToken);
        if (saved is null)
        {
            // A duplicate of this message saved this page first and carries the job on.
            return;
        }

        if (done)
        {
            logger.LogInformation("Recover job {JobId} completed: {Matched} deliveries put back to pending", job.Id, saved.Matched);
            return;
        }

        await queues.SendAsync(new JobMessage(job.MerchantId, job.Id), cancellationToken);
    }

    /// <summary>
    /// Puts one delivery back to pending with a fresh schedule, its next attempt marked <c>recover</c>.
    /// True when the delivery counts for this job: reset now, or found reset by this job already.
    /// </summary>
    private Task<bool> RecoverAsync(RecoverJob job, DeliveryRecord first, CancellationToken cancellationToken)
    {
        var reread = false;
        return OptimisticConcurrency.RunAsync(async ct =>
        {
            var current = reread ? await deliveries.FindAsync(first.WebhookId, first.EventId, ct) : first;
            reread = true;
            if (current is null)
            {
                return false;
            }

            if (current.RecoverJobId == job.Id)
            {
                // Reset by an earlier run of this page. If that run died before queuing the attempt, queue it:
                // the attempt fence drops it if the attempt was made already.
                if (current.Status == DeliveryStatus.Pending && current.ScheduledAttempts == 0)
                {
                    await SendAttemptAsync(current, ct);
                }

                return true;
            }

            if (!Matches(job, current))
            {
                return false;
            }

            var reset = Reset(job, current, clock.GetUtcNow());
            if (!await deliveries.TryResetAsync(current, reset, ct))
            {
                throw new WriteConflictException();
            }

            await SendAttemptAsync(reset, ct);
            return true;
        }, cancellationToken);
    }

    private static bool Matches(RecoverJob job, DeliveryRecord d) =>
        job.Statuses.Contains(d.Status, StringComparer.Ordinal) && d.CreatedAt >= job.Since && d.CreatedAt < job.Until;

    /// <summary>Back to pending, due now, with a fresh schedule, the next attempt marked <c>recover</c>, stamped with the job.</summary>
    private static DeliveryRecord Reset(RecoverJob job, DeliveryRecord d, DateTimeOffset now) => d with
    {
        Status = DeliveryStatus.Pending,
        SkippedReason = null,
        ScheduledAttempts = 0,
        NextAttemptAt = now,
        NextTrigger = AttemptTriggers.Recover,
        ClaimedAttempt = null,
        ClaimedUntil = null,
        RecoverJobId = job.Id,
    };

    /// <summary>The schedule restarts at its first attempt; <see cref="DeliveryRecord.Attempts"/> keeps counting, so attempt rows stay unique.</summary>
    private Task SendAttemptAsync(DeliveryRecord d, CancellationToken cancellationToken) =>
        queues.SendAsync(new AttemptMessage(d.MerchantId, d.ApplicationId, d.WebhookId, d.EventId, 1), TimeSpan.Zero, cancellationToken);
}
