using Microsoft.Extensions.Options;
using WebhookFunctions.Core.Auth;
using WebhookFunctions.Core.Delivery;
using WebhookFunctions.Core.Failures;
using WebhookFunctions.Core.Storage;
using WebhookFunctions.Core.Tenancy;
using WebhookFunctions.Core.Webhooks;

namespace WebhookFunctions.Core.Jobs;

/// <summary>The merchant's side of recovery: counting, starting a job, and reading one. Every call checks ownership.</summary>
public sealed class RecoverService(
    ApplicationService applications,
    WebhookRepository webhooks,
    RecoverStore deliveries,
    JobStore jobs,
    DeliveryQueues queues,
    IOptions<DeliveryOptions> options,
    TimeProvider clock)
{
    private TimeSpan Retention => TimeSpan.FromDays(options.Value.RetentionDays);

    /// <summary>The count for a dry run, or the job it started (RUNNING, its first page queued).</summary>
    public async Task<(long? Matched, RecoverJob? Job)> RecoverAsync(
        Caller caller, string applicationId, string webhookId, RecoverRequest request, CancellationToken cancellationToken)
    {
        await applications.RequireOwnedAsync(caller.MerchantId, applicationId, cancellationToken);
        Ids.Require(webhookId, "webhookId");
        var webhook = (await webhooks.FindAsync(caller.MerchantId, applicationId, webhookId, cancellationToken))?.Webhook
            ?? throw WebhookRepository.Gone(webhookId);

        var now = clock.GetUtcNow();
        var until = request.Until ?? now;
        if (request.Since < now - Retention)
        {
            throw new ValidationException(new ErrorDetail("since",
                $"Must lie within the retention period of {options.Value.RetentionDays} days: deliveries older than that are removed"));
        }

        if (request.Since >= until)
        {
            throw new ValidationException(new ErrorDetail("since", request.Until is null ? "Must be before until, which defaults to now" : "Must be before until"));
        }

        if (!webhook.IsActive)
        {
            throw new ConflictException("The webhook is inactive; enable it before recovering its deliveries.", new ErrorDetail("isActive", "Is false"));
        }

        if (request.DryRun)
        {
            return (await deliveries.CountAsync(webhookId, request.Since, until, request.Statuses, cancellationToken), null);
        }

        var job = new RecoverJob
        {
            Id = Ids.New(),
            MerchantId = caller.MerchantId,
            ApplicationId = applicationId,
            WebhookId = webhookId,
            Status = JobStatus.Running,
            Since = request.Since,
            Until = until,
            Statuses = request.Statuses,
            CreatedAt = Timestamps.Truncate(now),
            UpdatedAt = now,
        };
        await jobs.CreateAsync(job, cancellationToken);
        // If this message is lost (the process dies here), the sweep finds the job not moving and sends it again.
        await queues.SendAsync(new JobMessage(job.MerchantId, job.Id), cancellationToken);
        return (null, job);
    }

    /// <summary>The caller's job: 404 if there is none (or it has outlived retention), 403 if it is another merchant's.</summary>
    public async Task<RecoverJob> GetAsync(Caller caller, string jobId, CancellationToken cancellationToken)
    {
        Ids.Require(jobId, "jobId");
        var expired = clock.GetUtcNow() - Retention;
        if (await jobs.FindAsync(caller.MerchantId, jobId, cancellationToken) is { } job && job.CreatedAt >= expired)
        {
            return job;
        }

        if (await jobs.OwnerAsync(jobId, cancellationToken) is { } owner && owner.MerchantId != caller.MerchantId && owner.CreatedAt >= expired)
        {
            throw new ForbiddenException($"Job '{jobId}' belongs to another merchant.");
        }

        throw new NotFoundException($"Job '{jobId}' does not exist.");
    }
}
